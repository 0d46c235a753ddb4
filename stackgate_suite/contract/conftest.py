"""Contract fixtures: the merged compose models of both layouts (static: no stack needed)."""

import pytest

from stackgate.core.errors import ComposeFileError
from stackgate.evidence.composefile import load_config
from stackgate.pytest_plugin import manifest_of


@pytest.fixture(scope="session")
def compose_config(manifest, stack_profiles):
    """layout -> merged compose model (the manifest's layouts: 'separated', and 'simple' when it declares a
    rollback) with the session's profiles."""
    out = {}
    for layout in manifest.layouts:
        try:
            out[layout] = load_config(manifest.compose_files(layout, stack_profiles), manifest.project_dir)
        except ComposeFileError as exc:
            pytest.fail(str(exc), pytrace=False)
    return out


@pytest.fixture(scope="session")
def separated(compose_config):
    return compose_config["separated"]


@pytest.fixture(scope="session")
def rollback_config(rollback_target, stack_profiles):
    """The rollback layout's merged compose model with the session's profiles."""
    try:
        return load_config(rollback_target.compose_files(stack_profiles), rollback_target.manifest.project_dir)
    except ComposeFileError as exc:
        pytest.fail(str(exc), pytrace=False)


PROFILE_SETS = {"production": ["production"], "production+gpu": ["production", "gpu"], "airgap": ["airgap"]}

def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """profile_config: each profile set the manifest declares (production, production+gpu, airgap) x each layout."""
    if "profile_config" in metafunc.fixturenames:
        m = manifest_of(metafunc.config)
        configs = [(name, layout) for name, profiles in PROFILE_SETS.items() if all(p in m.profiles for p in profiles)
                   for layout in m.layouts]
        metafunc.parametrize("profile_config", configs, ids=[f"{n}-{layout}" for n, layout in configs],
                             indirect=True, scope="session")


@pytest.fixture(scope="session")
def profile_config(request, manifest) -> dict:
    """The merged compose model of a profile and layout: what a site would deploy, checked without starting it."""
    name, layout = request.param
    try:
        return load_config(manifest.compose_files(layout, PROFILE_SETS[name]), manifest.project_dir)
    except ComposeFileError as exc:
        pytest.fail(str(exc), pytrace=False)


@pytest.fixture(scope="session")
def production(manifest) -> dict:
    """layout -> the production profile's merged compose model."""
    return {layout: load_config(manifest.compose_files(layout, ["production"]), manifest.project_dir)
            for layout in manifest.layouts}
