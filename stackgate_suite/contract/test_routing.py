"""Routing, proven dynamically: each service's requests reach the Ollama it is routed to, and no other."""

import pytest

from stackgate.evidence.routing import from_traffic, observe, verdict

pytestmark = [pytest.mark.smoke, pytest.mark.contract, pytest.mark.metric("routing")]


@pytest.fixture(scope="module")
def observations(stack, http, manifest, chains, gate_state, probe_facts):
    """Where each app's requests went: read from the Ollamas' access logs of the round-trips' own traffic (since
    the chains started); an app they did not exercise at every Ollama of its routes is triggered with its probe."""
    apps = [s.name for s in manifest.apps()]
    with gate_state.timing("routing: read from the chains' traffic (+ probes of the rest)"):
        seen = from_traffic(stack, apps, list(manifest.ollamas), gate_state.evidence_started - 1.0)
        rest = [a for a in apps if a not in seen and manifest.services[a].probe]
        gate_state.routing_via = {a: obs.via for a, obs in seen.items()} | {a: "its probe" for a in rest}
        return {**seen, **(observe(stack, http, rest, list(manifest.ollamas), probe_facts) if rest else {})}


@pytest.mark.services("ollama", "ollama-vision")
def test_service_reaches_only_the_ollama_it_is_routed_to(app_spec, observations):
    """The Ollama access log shows the service's IP at each Ollama of its routes, and at no other."""
    if app_spec.name not in observations:
        pytest.skip(f"declare services.{app_spec.name}.probe: the request that makes it call "
                    f"{', '.join(sorted(set(app_spec.routes.values())))} (routing is observed through it)")
    problems = verdict(observations[app_spec.name], app_spec.routes)
    assert not problems, "\n".join(problems)
