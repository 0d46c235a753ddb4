"""No service logs an error after initialization (the manifest's pattern and allowlist decide), watched from the
moment each service became healthy until --watch-logs seconds after the last check."""

import time

import pytest

from stackgate.core.metrics import finding
from stackgate.evidence.disruptions import SETTLE_S, segments

pytestmark = [pytest.mark.smoke, pytest.mark.metric("logs-clean"), pytest.mark.after_all]


@pytest.fixture(scope="session")
def log_windows(stack, manifest, log_watch_s, progress, gate_state) -> dict[str, tuple[float, float]]:
    """Keep watching until --watch-logs seconds after the last check (the healthcheck proofs, which disturb the stack
    in a window of their own, run inside that time); then service -> (healthy at, end) to scan."""
    seconds = log_watch_s
    end = max(max(gate_state.last_check_end or time.time(), time.time() - seconds) + seconds,
              max((d.end or time.time() for d in gate_state.disruptions), default=0.0) + SETTLE_S)
    if end > time.time():
        progress(f"logs: watching every service {end - time.time():.0f} s more ({seconds:.0f} s after the last check)")
        with gate_state.timing("log watch after the last check (the rest of it)"):
            time.sleep(max(0.0, end - time.time()))
    end = time.time()
    windows = {name: (stack.healthy_at(name), end) for name in manifest.services}
    gate_state.log_windows = windows
    return windows


def test_no_error_lines_after_initialization(service_spec, stack, manifest, log_windows, gate_state):
    """Every line a service printed from the moment it became healthy to the end of the watch is free of errors; in
    a disruption's own window (the healthcheck proof's pauses), free of errors that disruption is not declared to
    cause (logs.during)."""
    since, until = log_windows[service_spec.name]
    errors = []
    for start, end, d in segments(since, until, gate_state.disruptions):
        lines = [ln for ln in stack.logs(service_spec.name, since=start, until=end) if manifest.is_error_line(ln)]
        errors += [ln for ln in lines if d is None or manifest.expected_during(d.kind, d.target, service_spec.name,
                                                                                 ln) is None]
    first = " | ".join(e[:200] for e in errors[:3])
    assert not errors, finding("logs-clean", service_spec.name, f"no error lines in the {until - since:.0f} s watched "
                               "after initialization", f"{len(errors)} line(s), first: {first}")
