"""No service logs an error after initialization (the manifest's pattern and allowlist decide)."""

import pytest

from stackgate.metrics import finding

pytestmark = [pytest.mark.smoke, pytest.mark.metric("logs-clean"), pytest.mark.after_all]


def test_no_error_lines_after_initialization(service_spec, stack, manifest):
    """Every line a service printed since the stack became healthy is free of errors."""
    lines = stack.logs(service_spec.name, since=stack.ready_at)
    errors = [ln for ln in lines if manifest.is_error_line(ln)]
    assert not errors, finding("logs-clean", service_spec.name, "no error lines after initialization",
                               f"{len(errors)} line(s), first: " + " | ".join(e[:200] for e in errors[:3]))
