"""Routing, proven dynamically: each service's requests reach the Ollama it is routed to, and no other."""

import pytest

from stackgate.evidence.routing import observe, verdict

pytestmark = [pytest.mark.smoke, pytest.mark.contract, pytest.mark.metric("routing")]


@pytest.fixture(scope="module")
def observations(stack, http, manifest, evidence, probe_facts):
    """Every app service triggered once, concurrently (while the slow evidence is gathered); both Ollamas'
    access logs read since then."""
    return observe(stack, http, [s.name for s in manifest.apps() if s.probe], list(manifest.ollamas), probe_facts)


@pytest.mark.services("ollama", "ollama-vision")
def test_service_reaches_only_the_ollama_it_is_routed_to(app_spec, observations):
    """The Ollama access log shows the service's IP at each Ollama of its routes, and at no other."""
    if not app_spec.probe:
        pytest.skip(f"declare services.{app_spec.name}.probe: the request that makes it call "
                    f"{', '.join(sorted(set(app_spec.routes.values())))} (routing is observed through it)")
    problems = verdict(observations[app_spec.name], app_spec.routes)
    assert not problems, "\n".join(problems)
