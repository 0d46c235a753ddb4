"""The Ollamas' entrypoint (stack/ollama-lib.sh) with a fake `ollama` on PATH: it stops promptly on TERM while a
pull runs (bash would hold the trap until a foreground pull ended, and `docker stop` would end in SIGKILL), and it
writes MODEL_NUM_THREAD into every model it holds."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

LIB = Path(__file__).resolve().parents[1] / "stack" / "ollama-lib.sh"

FAKE = """#!/usr/bin/env bash
# a fake ollama: serve idles, list shows what $HELD names, pull takes $PULL_S seconds, create logs its Modelfile
case "$1" in
  serve) exec sleep 300 ;;
  list) echo "NAME ID SIZE MODIFIED"; for m in $HELD; do echo "$m abc 1B now"; done ;;
  pull) sleep "${PULL_S:-0}" ;;
  create) echo "$2 $(tr '\\n' ' ' < "$4")" >> "$CREATED" ;;
esac
"""


@pytest.fixture
def fake_ollama(tmp_path):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "ollama").write_text(FAKE)
    (bin_dir / "ollama").chmod(0o755)
    return {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}", "CREATED": str(tmp_path / "created")}


def entrypoint(env: dict) -> subprocess.Popen:
    # SIGINT/TERM at their defaults in the child (a non-interactive shell's background jobs ignore SIGINT)
    return subprocess.Popen(["bash", "-c", f". {LIB}; ollama_run test"], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))


def test_term_during_a_pull_stops_the_entrypoint_within_a_second(fake_ollama):
    proc = entrypoint({**fake_ollama, "MODELS": "llava:7b", "HELD": "", "PULL_S": "120"})
    deadline = time.monotonic() + 10
    while "pulling" not in (line := proc.stdout.readline()) and time.monotonic() < deadline:
        pass
    assert "pulling llava:7b" in line
    t0 = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=10)
    assert time.monotonic() - t0 < 1.0 and proc.returncode == 0


def test_every_held_model_gets_model_num_thread_as_its_parameter(fake_ollama, tmp_path):
    env = {**fake_ollama, "MODELS": "llama3.2:latest nomic-embed-text", "HELD": "llama3.2:latest nomic-embed-text:latest",
           "MODEL_NUM_THREAD": "3"}
    proc = entrypoint(env)
    deadline = time.monotonic() + 10
    while "ready with models" not in proc.stdout.readline() and time.monotonic() < deadline:
        pass
    proc.terminate()
    proc.wait(timeout=10)
    created = (tmp_path / "created").read_text().splitlines()
    assert created == ["llama3.2:latest FROM llama3.2:latest PARAMETER num_thread 3 ",
                       "nomic-embed-text:latest FROM nomic-embed-text:latest PARAMETER num_thread 3 "]
