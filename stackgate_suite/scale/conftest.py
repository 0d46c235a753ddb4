"""Scale-out fixtures: the swarm stack, the facts each burst carries, the per-replica table of the report."""

import pytest

from stackgate.engines.swarm import SwarmStack


@pytest.fixture(scope="session")
def swarm_stack(stack):
    """The session's stack when it runs on swarm (--stack-engine swarm); the test skips otherwise."""
    if not isinstance(stack, SwarmStack):
        pytest.skip("scale-out needs the swarm engine: --stack-engine swarm (make scale)")
    return stack


@pytest.fixture(scope="session")
def scale(manifest):
    """The manifest's scale section; the test skips when it declares none."""
    if manifest.scale is None:
        pytest.skip("the manifest declares no scale section")
    return manifest.scale


@pytest.fixture(scope="session")
def scale_report(gate_state):
    """What the report's scale-out section shows: bursts (per-replica counts) and replica losses."""
    return gate_state.scale
