"""Rollback fixtures: data written through the deployment, then the move to the rollback layout and back."""

import pytest

from stackgate.core.errors import StackgateError
from stackgate.engines.rollback import Rollback
from stackgate.evidence import kept_volumes


@pytest.fixture(scope="module")
def written(owned_stack, data_writer):
    """Data written through the deployment before the rollback: a document (with its embeddings and
    entities) and a note."""
    return data_writer("RB", "rollback", 500)


REGISTRY_DOWN = {"STACKGATE_REGISTRY": "unreachable"}  # the airgap profile's switch (stand-in Ollama)


@pytest.fixture(scope="module")
def rollback_plan(stack, rollback_target, target_config, stack_profiles, gate_state) -> Rollback:
    """Before anything moves: the rollback layout's model volumes as a site keeps them from before the migration
    (read when they exist; created, and said so, when absent) and the pulls the rollback would need."""
    rb = Rollback(stack, stack_profiles)
    gate_state.rollback = rb
    there = rollback_target.manifest
    held = there.rollback_volume_held or stack.manifest.rollback_volume_held
    rb.needs = kept_volumes.prepare(stack.client, stack.project, there, target_config, held)
    return rb


@pytest.fixture(scope="module")
def rollback(rollback_plan, rollback_target, written):
    """The stack moved to the rollback layout (the deployment `down` with volumes kept, the target `up` with the
    registry unreachable: a likely moment to roll back is an outage)."""
    return switched(rollback_plan, rollback_target, REGISTRY_DOWN)


@pytest.fixture(scope="module")
def forward(rollback):
    """The stack moved forward again to the deployment it started as."""
    return switched(rollback, rollback.home)


def switched(rb: Rollback, where, env: dict[str, str] | None = None) -> Rollback:  # noqa: ANN001
    """rb after moving to where; a failed step fails the test that needed it, with the step's evidence."""
    try:
        rb.switch(where, env)
    except StackgateError as exc:
        pytest.fail(str(exc), pytrace=False)
    return rb


@pytest.fixture(scope="module")
def target_config(rollback_target, stack_profiles) -> dict:
    """The rollback layout's merged compose model."""
    from stackgate.evidence.composefile import load_config

    return load_config(rollback_target.compose_files(stack_profiles), rollback_target.manifest.project_dir)
