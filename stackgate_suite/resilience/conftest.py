"""Resilience fixtures: data written before the disruptions, and a place for the recovery times in the report."""

import pytest


@pytest.fixture(scope="module")
def written(owned_stack, data_writer):
    """A document (text, embeddings, entities) and a note written before anything is disturbed."""
    return data_writer("RS", "resilience", 600)


@pytest.fixture(scope="session")
def recoveries(gate_state) -> list[tuple[str, str, float | None, str]]:
    """(what was done, to which service, seconds until every dependent worked again or None, detail): the
    report's recovery table."""
    return gate_state.recoveries


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """crash_target: each Ollama (or OpenAI server) of the manifest, and 'app' (the app most others depend on)."""
    if "crash_target" in metafunc.fixturenames:
        from stackgate.pytest_plugin import manifest_of

        targets = [*manifest_of(metafunc.config).ollamas, "app"]
        metafunc.parametrize("crash_target", targets, ids=targets)
