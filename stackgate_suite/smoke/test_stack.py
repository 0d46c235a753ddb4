"""The stack comes up: every service healthy within the manifest's bound."""

import pytest

from stackgate.core.metrics import finding

pytestmark = [pytest.mark.smoke, pytest.mark.metric("services-running")]


def test_the_stack_comes_up_healthy_within_its_bound(stack_start, manifest):
    """`docker compose up --wait` brings every service to healthy within the manifest's start-up budget (first
    run or later start); a failure names the services that failed by themselves (not those only waiting)."""
    if stack_start.stack is not None and stack_start.stack.reused:
        pytest.skip("--stack-reuse: the stack was started outside this session; its start-up was not observed")
    if stack_start.error is None:
        return
    bound = f"running and healthy within {stack_start.bound_s or 0:.0f}s"
    causes = stack_start.causes or {"stack": "did not come up"}
    pytest.fail("\n".join(finding("services-running", name, bound, state) for name, state in causes.items())
                + "\n" + stack_start.error, pytrace=False)
