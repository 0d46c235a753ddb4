"""Unit-test helpers: a fake command runner."""

from __future__ import annotations

import subprocess
from collections.abc import Callable

import pytest


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
