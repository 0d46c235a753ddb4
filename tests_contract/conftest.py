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


PROFILE_SETS = {"production": ["production"], "production+gpu": ["production", "gpu"], "airgap": ["airgap"]}
CONFIGS = [(name, layout) for name in PROFILE_SETS for layout in ("separated", "simple")]


@pytest.fixture(scope="session", params=CONFIGS, ids=[f"{n}-{layout}" for n, layout in CONFIGS])
def profile_config(request, manifest) -> dict:
    """The merged compose model of each profile (production, production+gpu, airgap) and layout: what a site would
    deploy, checked without starting it."""
    name, layout = request.param
    try:
        return load_config(manifest.compose_files(layout, PROFILE_SETS[name]), manifest.project_dir)
    except ComposeFileError as exc:
        pytest.fail(str(exc), pytrace=False)


@pytest.fixture(scope="session")
def production(manifest) -> dict:
    """layout -> the production profile's merged compose model."""
    return {layout: load_config(manifest.compose_files(layout, ["production"]), manifest.project_dir)
            for layout in ("separated", "simple")}
