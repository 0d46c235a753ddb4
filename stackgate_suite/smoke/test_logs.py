"""No service logs an error after initialization (the manifest's pattern and allowlist decide), watched from the
moment each service became healthy until --watch-logs seconds after the last check."""

import time

import pytest

from stackgate.core.metrics import finding

pytestmark = [pytest.mark.smoke, pytest.mark.metric("logs-clean"), pytest.mark.after_all]


@pytest.fixture(scope="session")
def log_windows(stack, manifest, log_watch_s, progress, gate_state) -> dict[str, tuple[float, float]]:
    """Keep watching --watch-logs seconds after the last check; then service -> (healthy at, end) to scan."""
    seconds = log_watch_s
    if seconds > 0:
        progress(f"logs: watching every service {seconds:.0f} s more after the last check")
        with gate_state.timing("log watch after the last check"):
            time.sleep(seconds)
    end = time.time()
    windows = {name: (stack.healthy_at(name), end) for name in manifest.services}
    gate_state.log_windows = windows
    return windows


def test_no_error_lines_after_initialization(service_spec, stack, manifest, log_windows):
    """Every line a service printed from the moment it became healthy to the end of the watch is free of errors."""
    since, until = log_windows[service_spec.name]
    errors = [ln for ln in stack.logs(service_spec.name, since=since, until=until) if manifest.is_error_line(ln)]
    first = " | ".join(e[:200] for e in errors[:3])
    assert not errors, finding("logs-clean", service_spec.name, f"no error lines in the {until - since:.0f} s watched "
                               "after initialization", f"{len(errors)} line(s), first: {first}")
