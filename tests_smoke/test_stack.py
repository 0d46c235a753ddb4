"""The stack comes up: every service healthy within the manifest's bound."""

import pytest

from stackgate.metrics import finding

pytestmark = [pytest.mark.smoke, pytest.mark.metric("services-running")]


def test_the_stack_comes_up_healthy_within_its_bound(stack_start, manifest):
    """`docker compose up --wait` brings every service to healthy within compose.startup_timeout_s."""
    assert "error" not in stack_start, finding(
        "services-running", "stack", f"all services healthy within {manifest.startup_timeout_s:.0f}s",
        stack_start.get("error", ""))
