"""Contract fixtures: the merged compose models of both layouts (static: no stack needed)."""

import pytest

from stackgate.composefile import load_config
from stackgate.errors import ComposeFileError


@pytest.fixture(scope="session")
def compose_config(manifest, stack_profiles):
    """layout -> merged compose model ('separated' and 'simple') with the session's profiles."""
    out = {}
    for layout in ("separated", "simple"):
        try:
            out[layout] = load_config(manifest.compose_files(layout, stack_profiles), manifest.project_dir)
        except ComposeFileError as exc:
            pytest.fail(str(exc), pytrace=False)
    return out


@pytest.fixture(scope="session")
def separated(compose_config):
    return compose_config["separated"]


@pytest.fixture(scope="session")
def simple(compose_config):
    return compose_config["simple"]
