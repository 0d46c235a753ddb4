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


class FakeLlama:
    """llama.cpp's Llama as the stand-in's engine uses it (create_chat_completion, streamed): it answers a fixed
    sentence, or a fixed JSON object when a response format asks for one. The stand-in's API, not a model, is
    under test where it is used; real answers come from llama.cpp in the images."""

    n_tokens = 12
    TEXT = "Fake answer from llama.cpp."

    def __init__(self) -> None:
        self.calls: list[dict] = []

    def create_chat_completion(self, **kwargs):
        self.calls.append(kwargs)
        text = '{"answer": "fake"}' if kwargs.get("response_format") else self.TEXT
        for word in text.split(" "):
            yield {"choices": [{"delta": {"content": word + " "}, "finish_reason": None}]}
        yield {"choices": [{"delta": {}, "finish_reason": "stop"}]}

    def close(self) -> None:
        pass


@pytest.fixture
def fake_weights(tmp_path, monkeypatch) -> list[FakeLlama]:
    """The stand-in with weights in its image (a fake GGUF file) and llama.cpp faked: the contexts it loads."""
    from standin_ollama import engine, server

    weights = tmp_path / "SmolLM2-135M-Instruct.Q4_1.gguf"
    weights.write_bytes(b"GGUF" + b"\0" * 64)
    monkeypatch.setenv(engine.WEIGHTS_ENV, str(weights))
    monkeypatch.setenv(engine.WEIGHTS_NAME_ENV, "SmolLM2-135M-Instruct Q4_1")
    loaded: list[FakeLlama] = []
    monkeypatch.setattr(server, "SCHED", engine.Scheduler(loader=lambda blob, n=1: loaded.append(FakeLlama())
                                                           or loaded[-1]))
    return loaded
