"""The stackgate pytest plugin, one module per concern, each registered as a plugin of its own by the list below:

- `options`: command-line options, markers, the manifest and gate of the session (`state`: its typed state);
- `collection`: parametrization from the manifest, metric bookkeeping, the order of disruptive tests;
- `lifecycle`: the session's stack (compose or swarm), started at collection's end, always stopped;
- `fixtures`, `evidence`: the fixtures the suite uses (round-trip chains and the browser run concurrently);
- `history`: this run's record kept in --history, its comparison with the baseline (`since_last_release`);
- `results`: outcomes under their metrics, logs attached to failures, the verdict (once) and metrics.json;
- `html_report`, `terminal`: the report's sections and the terminal summary;
- `allure_labels`: with allure-pytest and --alluredir, metric, service and gate as Allure labels.

What a user may override: any fixture (`http`, `run_facts`, `probe_facts`, `rollback_target`, `gpu`, …) in a
conftest.py. The manifest and the stack are chosen by options (`--manifest`, `--stack-profile`, `--stack-engine`,
`--stack-reuse`, `--stack-project`), not by fixtures: they are read at configure and the stack starts at collection's
end, before any fixture runs. Public helpers for a suite's own conftest: `manifest_of(config)` and `live_log(config)`.
"""

from __future__ import annotations

import importlib

import pytest

from stackgate.manifest import Manifest

from .live import live_log
from .state import state_of

PLUGINS = ("options", "collection", "lifecycle", "fixtures", "evidence", "history", "results", "html_report",
           "terminal", "allure_labels")


def pytest_addhooks(pluginmanager: pytest.PytestPluginManager) -> None:
    """Register each concern's module as a plugin of its own (once)."""
    for name in PLUGINS:
        module = importlib.import_module(f"{__name__}.{name}")
        if not pluginmanager.is_registered(module):
            pluginmanager.register(module, f"stackgate.{name}")


def manifest_of(config: pytest.Config) -> Manifest:
    """The session's manifest, for hooks that run before fixtures (e.g. a conftest's pytest_generate_tests)."""
    return state_of(config).manifest


__all__ = ["live_log", "manifest_of"]
