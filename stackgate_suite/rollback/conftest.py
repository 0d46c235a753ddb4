"""Rollback fixtures: data written through the deployment, then the move to the rollback layout and back."""

import pytest

from stackgate.core.errors import StackgateError
from stackgate.engines.rollback import Rollback


@pytest.fixture(scope="module")
def written(owned_stack, data_writer):
    """Data written through the deployment before the rollback: a document (with its embeddings and
    entities) and a note."""
    return data_writer("RB", "rollback", 500)


@pytest.fixture(scope="module")
def rollback(stack, rollback_target, written, stack_profiles, gate_state):
    """The stack moved to the rollback layout (the deployment `down` with volumes kept, the target `up`)."""
    rb = Rollback(stack, stack_profiles)
    gate_state.rollback = rb
    return switched(rb, rollback_target)


@pytest.fixture(scope="module")
def forward(rollback):
    """The stack moved forward again to the deployment it started as."""
    return switched(rollback, rollback.home)


def switched(rb: Rollback, where) -> Rollback:  # noqa: ANN001
    """rb after moving to where; a failed step fails the test that needed it, with the step's evidence."""
    try:
        rb.switch(where)
    except StackgateError as exc:
        pytest.fail(str(exc), pytrace=False)
    return rb


@pytest.fixture(scope="module")
def target_config(rollback_target, stack_profiles) -> dict:
    """The rollback layout's merged compose model."""
    from stackgate.evidence.composefile import load_config

    return load_config(rollback_target.compose_files(stack_profiles), rollback_target.manifest.project_dir)
