"""Resilience fixtures: data written before the disruptions, and a place for the recovery times in the report."""

import pytest

from stackgate.plugin import STACK_KEY, data_before


@pytest.fixture(scope="module")
def written(owned_stack, http, manifest, run_facts):
    """A document (text, embeddings, entities) and a note written before anything is disturbed."""
    return data_before(http, manifest, run_facts, "RS", "resilience", offset=600)


@pytest.fixture(scope="session")
def recoveries(pytestconfig) -> list[tuple[str, str, float | None, str]]:
    """(what was done, to which service, seconds until every dependent worked again or None, detail): the
    report's recovery table."""
    return pytestconfig.stash[STACK_KEY].setdefault("recoveries", [])
