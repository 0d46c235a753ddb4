"""Allure, for teams that use it: with allure-pytest installed and --alluredir given, each test carries its gate
(epic), metric (feature, and the metric id as a tag) and services (story) as labels, so an Allure report groups by
metric and keeps its own history; the run's caveat (verdict, stand-ins, backends, GPU) is written to the results'
environment.properties. Without --alluredir nothing here runs."""

from __future__ import annotations

from pathlib import Path

import pytest

from stackgate.core.metrics import METRICS

from .results import backends_of, involved_services, standin_caveat, verdict_of
from .state import state_of


def alluredir(config: pytest.Config) -> Path | None:
    """The --alluredir of allure-pytest, when it is installed and asked for."""
    folder = getattr(config.option, "allure_report_dir", None)
    return Path(folder) if folder else None


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if alluredir(config) is None:
        return
    state = state_of(config)
    gate = f"{state.gate.name} gate" if state.gate else "no gate"
    label = pytest.mark.allure_label
    for item in items:
        item.add_marker(label(gate, label_type="epic"))
        metric = item.get_closest_marker("metric")
        if metric and metric.args:
            item.add_marker(label(METRICS.get(metric.args[0], metric.args[0]), label_type="feature"))
            item.add_marker(label(metric.args[0], label_type="tag"))
        for service in involved_services(item, state.manifest):
            item.add_marker(label(service, label_type="story"))


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session) -> None:
    folder = alluredir(session.config)
    if folder is None:
        return
    state = state_of(session.config)
    v = verdict_of(state)
    env = {"stackgate.gate": v.gate, "stackgate.verdict": v.verdict, "stackgate.caveat": standin_caveat(state) or "none",
           **{f"stackgate.{k}": val for k, val in backends_of(state).items()}}
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "environment.properties").write_text(
        "".join(f"{k}={' '.join(str(val).split())}\n" for k, val in env.items()))
