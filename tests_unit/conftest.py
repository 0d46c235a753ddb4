"""Unit-test helpers: the stand-ins' and services' code on sys.path, and a fake command runner."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# The stand-ins and services live in stack/ in their image layout; import them from there.
for sub in ("stack/airgap/ollama", "stack/airgap/vllm", "stack/airgap/neo4j", "stack/services"):
    if str(ROOT / sub) not in sys.path:
        sys.path.insert(0, str(ROOT / sub))


class FakeRunner:
    """Answers commands from a table of (argv prefix -> (rc, stdout)); records every call."""

    def __init__(self, table: dict[tuple[str, ...], tuple[int, str]]) -> None:
        self.table, self.calls = table, []

    def __call__(self, argv, **kwargs) -> subprocess.CompletedProcess:
        argv = list(argv)
        self.calls.append(argv)
        for prefix, (rc, out) in sorted(self.table.items(), key=lambda kv: -len(kv[0])):
            if tuple(argv[: len(prefix)]) == prefix:
                return subprocess.CompletedProcess(argv, rc, out, "")
        return subprocess.CompletedProcess(argv, 1, "", "unknown command")


@pytest.fixture
def fake_runner() -> Callable[[dict], FakeRunner]:
    return FakeRunner


@pytest.fixture(autouse=True)
def private_reaper_records(tmp_path, monkeypatch):
    """Unit tests never read or delete the reaper records of a real run on this machine."""
    from stackgate.engines import reaper

    monkeypatch.setattr(reaper, "RECORDS", tmp_path / "reaper-records")
