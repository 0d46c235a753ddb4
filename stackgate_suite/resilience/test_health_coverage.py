"""Health coverage (release gate): each store and Ollama is paused on its own while every app's own healthcheck
runs. An app whose health reports healthy while a dependency it must cover is gone hides an outage from the engine
and from the frontend; what each app must cover is the manifest's `health_covers`, else every store and Ollama in
its depends_on."""

import pytest

from stackgate.core.metrics import finding
from stackgate.evidence import health_coverage

pytestmark = [pytest.mark.resilience, pytest.mark.slow]  # first of the resilience tests: nothing is broken yet


@pytest.fixture(scope="session")
def coverage(owned_stack, manifest, gate_state, disruption) -> health_coverage.Coverage:
    """The matrix app x dependency, measured once (kept for the report's health-coverage table); the frontend is
    measured too (its health covers the apps it proxies, so it shows what reaches it)."""
    apps = [s.name for s in manifest.services.values() if s.kind in ("app", "frontend")]
    gate_state.health_coverage = health_coverage.measure(owned_stack, apps,
                                                         window=lambda dep: disruption("dependency-pause", dep))
    return gate_state.health_coverage


@pytest.mark.metric("services-running")
def test_an_apps_health_fails_while_each_dependency_it_must_cover_is_paused(app_spec, coverage):
    """With each store or Ollama it must cover paused on its own, the app's own healthcheck exits non-zero."""
    name = app_spec.name
    need = coverage.must_cover.get(name, [])
    if not need:
        pytest.skip(f"{name}: no store or Ollama among its depends_on (nor in health_covers): nothing to cover")
    unpaused = [d for d in need if d in coverage.not_paused]
    ignored = coverage.ignored(name)
    assert not ignored, finding(
        "services-running", name, f"its healthcheck to fail while {', '.join(ignored)} is paused (it must cover "
        f"{', '.join(need)})", "; ".join(f"{d} paused: exit {coverage.cells[name][d].code} "
                                         f"{coverage.cells[name][d].output[:80] or '(healthy)'}"
                                         + ("" if coverage.cells[name][d].was_healthy else
                                            " (it was not healthy before the pause: no evidence)") for d in ignored))
    assert not unpaused, finding("services-running", name, f"{', '.join(unpaused)} running to be paused",
                                 ", ".join(f"{d}: {coverage.not_paused[d]}" for d in unpaused))


@pytest.mark.metric("services-running")
def test_every_apps_health_passes_again_after_each_thaw(coverage):
    """After each pause is thawed, every app's healthcheck passes again (within 60 s) before the next pause."""
    assert not coverage.not_thawed, finding("services-running", ", ".join(sorted(coverage.not_thawed)),
                                            "healthy again after each thaw",
                                            "; ".join(f"{a} {w}" for a, w in sorted(coverage.not_thawed.items())))
