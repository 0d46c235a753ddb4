"""The logs written while the resilience tests disturbed the stack (restarts without a registry, store restarts,
paused and crashed Ollamas, the health-coverage pauses), each disruption in its own window: a service may log
only the errors the manifest's `logs.during` declares for that kind of disruption (what, which service, why)."""

import pytest

from stackgate.core.metrics import finding
from stackgate.evidence.disruptions import judged

pytestmark = [pytest.mark.resilience, pytest.mark.after_disruptions, pytest.mark.metric("logs-clean")]
KINDS = ("registry-outage", "store-restart", "ollama-pause", "crash", "dependency-pause")


def test_no_undeclared_error_lines_while_the_resilience_tests_disturb_the_stack(service_spec, stack, manifest,
                                                                                gate_state):
    """Every error line a service printed during a resilience disruption (its window plus 5 s) is one that
    disruption is declared to cause."""
    windows = [d for d in gate_state.disruptions if d.kind in KINDS and d.suite != "smoke"]
    if not windows:
        pytest.skip("no resilience disruption ran in this session")
    _, seen = judged(stack, manifest, service_spec.name, windows, gate_state.disruption_scans)
    assert not seen, finding("logs-clean", service_spec.name, "only the error lines logs.during declares for "
                             f"{len(windows)} disruption(s)", seen)
