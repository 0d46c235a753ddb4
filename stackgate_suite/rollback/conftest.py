"""Rollback fixtures: data written through the separated stack, then the move to the simple one and back."""

import pytest

from stackgate.errors import StackgateError
from stackgate.plugin import STACK_KEY, data_before
from stackgate.rollback import Rollback


@pytest.fixture(scope="module")
def written(owned_stack, http, manifest, run_facts):
    """Data written through the separated stack before the rollback: a document (with its embeddings and
    entities) and a note."""
    return data_before(http, manifest, run_facts, "RB", "rollback", offset=500)


@pytest.fixture(scope="module")
def rollback(stack, written, stack_profiles, pytestconfig):
    """The stack moved to the simple layout (separated `down` with volumes kept, simple `up`)."""
    rb = Rollback(stack, stack_profiles)
    pytestconfig.stash[STACK_KEY]["rollback"] = rb
    return switched(rb, "simple")


@pytest.fixture(scope="module")
def forward(rollback):
    """The stack moved forward again to the separated layout."""
    return switched(rollback, "separated")


def switched(rb: Rollback, layout: str) -> Rollback:
    """rb after moving to layout; a failed step fails the test that needed it, with the step's evidence."""
    try:
        rb.switch(layout)
    except StackgateError as exc:
        pytest.fail(str(exc), pytrace=False)
    return rb


@pytest.fixture(scope="module")
def simple_config(manifest, stack_profiles) -> dict:
    """The simple layout's merged compose model."""
    from stackgate.composefile import load_config

    return load_config(manifest.compose_files("simple", stack_profiles), manifest.project_dir)


@pytest.fixture(scope="module")
def simple_services(simple_config):
    """The services the simple file defines."""
    return set(simple_config["services"])
