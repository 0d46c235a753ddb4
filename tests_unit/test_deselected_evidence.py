"""Deselected tests as missing evidence: only when a suite they belong to ran (so `-m smoke` does not leave the
smoke gate's metrics UNKNOWN over the release suites' tests, while `-m smoke -k notes` does)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from stackgate.pytest_plugin import collection


class Item:
    def __init__(self, nodeid: str, config, *markers: str, metric: str = "services-running") -> None:
        self.nodeid, self.config = nodeid, config
        self.marks = {m: SimpleNamespace(args=()) for m in markers} | {"metric": SimpleNamespace(args=(metric,))}

    def get_closest_marker(self, name: str):
        return self.marks.get(name)


@pytest.fixture
def config():
    recorded: list = []
    cfg = SimpleNamespace(stash=pytest.Stash())
    cfg.recorded = recorded
    return cfg


def run(config, selected, deselected, monkeypatch) -> list[str]:
    state = SimpleNamespace(record=lambda metric, result: config.recorded.append(result.nodeid))
    monkeypatch.setattr(collection, "state_of", lambda cfg: state)
    collection.pytest_deselected(deselected)
    collection.record_deselected(SimpleNamespace(items=selected, config=config))
    return config.recorded


def test_a_release_suite_test_left_out_by_m_smoke_is_not_missing_smoke_evidence(config, monkeypatch):
    smoke = Item("smoke::a", config, "smoke")
    coverage = Item("resilience::coverage", config, "resilience")
    assert run(config, [smoke], [coverage], monkeypatch) == []


def test_a_smoke_test_left_out_by_k_is_missing_evidence(config, monkeypatch):
    smoke = Item("smoke::a", config, "smoke")
    other = Item("smoke::b", config, "smoke")
    unmarked = Item("x::c", config)
    assert run(config, [smoke], [other, unmarked], monkeypatch) == ["smoke::b", "x::c"]
