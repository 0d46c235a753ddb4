"""Bad input gets a clear one-line error and a non-zero exit, and leaves no container, network or volume."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from stackgate.engines import sweep
from stackgate.faults import ROOT, STACK_DIR

pytestmark = pytest.mark.slow


def gate(tmp_path: Path, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    """`pytest -m smoke` (the release gate) as a release engineer runs it, in a subprocess."""
    return subprocess.run([sys.executable, "-m", "pytest", "-m", "smoke", "-q", "-p", "no:cacheprovider",
                           "-x", *args], cwd=ROOT, capture_output=True, text=True, timeout=600,
                          env={**os.environ, "STACKGATE_REPORTS": str(tmp_path), **(env or {})})


def copy_stack(tmp_path: Path) -> Path:
    dst = tmp_path / "stack"
    shutil.copytree(STACK_DIR, dst, ignore=shutil.ignore_patterns("__pycache__"))
    return dst


@pytest.fixture(autouse=True)
def nothing_left_behind():
    before = {r.id for r in sweep.list_resources()}
    yield
    left = [r for r in sweep.list_resources() if r.id not in before]
    assert not left, f"left behind: {left}"


def error_line(res: subprocess.CompletedProcess, needle: str) -> str:
    text = res.stdout + res.stderr
    lines = [ln for ln in text.splitlines() if needle in ln]
    assert lines, f"no line mentions {needle!r}:\n{text[-3000:]}"
    return lines[0]


def test_a_malformed_manifest_is_a_usage_error(tmp_path):
    bad = tmp_path / "manifest.yaml"
    bad.write_text("ollamas: [\n")
    res = gate(tmp_path, f"--manifest={bad}")
    assert res.returncode == 4 and "manifest:" in error_line(res, "not valid YAML")


def test_a_malformed_compose_file_fails_the_start_naming_compose(tmp_path):
    stack = copy_stack(tmp_path)
    (stack / "docker-compose-separated.yml").write_text("services:\n  ollama: [broken\n")
    res = gate(tmp_path, f"--manifest={stack / 'manifest.yaml'}", "stackgate_suite/smoke/test_stack.py")
    assert res.returncode == 1
    assert "compose files are not valid" in error_line(res, "compose files are not valid")


def test_a_busy_port_fails_the_start_naming_port_and_service(tmp_path):
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("0.0.0.0", 8100))
        s.listen(1)
        res = gate(tmp_path, "stackgate_suite/smoke/test_stack.py")
    assert res.returncode == 1 and "8100 (notes-service)" in error_line(res, "already in use")


def test_a_missing_engine_fails_the_start_saying_what_to_do(tmp_path):
    res = gate(tmp_path, "stackgate_suite/smoke/test_stack.py", env={"DOCKER_HOST": f"unix://{tmp_path}/no-engine.sock"})
    assert res.returncode == 1 and "make setup" in error_line(res, "no Docker engine answers")


def test_an_unknown_model_fails_the_start_with_the_pull_error(tmp_path):
    stack = copy_stack(tmp_path)
    path = stack / "docker-compose-separated.yml"
    doc = yaml.safe_load(path.read_text())
    doc["services"]["ollama"]["environment"]["MODELS"] = "llama3.2:latest no-such-model:7b"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    res = gate(tmp_path, f"--manifest={stack / 'manifest.yaml'}", "stackgate_suite/smoke/test_stack.py")
    assert res.returncode == 1
    assert "no-such-model:7b" in error_line(res, "FATAL: pull of no-such-model:7b failed")


def _engine_view() -> dict:
    """What a swarm run may change: the swarm state, the networks, the volumes and the services."""
    from stackgate.engines.swarm import swarm_state

    def names(*argv: str) -> list[str]:
        return sorted(subprocess.run(argv, capture_output=True, text=True, timeout=60).stdout.split())

    state = swarm_state()
    return {"swarm": state, "networks": names("docker", "network", "ls", "--format", "{{.Name}}"),
            "volumes": names("docker", "volume", "ls", "-q"), "containers": names("docker", "ps", "-aq"),
            "services": names("docker", "service", "ls", "-q") if state == "active" else []}


def test_an_interrupted_swarm_run_leaves_nothing_and_the_engine_as_found(tmp_path):
    """^C while the scale gate runs on swarm: the stack, its networks and per-slot volumes go, and the engine
    leaves the swarm it joined for the run (and the bridge network `swarm init` made)."""
    import signal
    import time

    before = _engine_view()
    proc = subprocess.Popen(
        [sys.executable, "-m", "pytest", "stackgate_suite", "-m", "smoke or scale", "--gate", "scale",
         "--stack-engine", "swarm", "-q", "-p", "no:cacheprovider"], cwd=ROOT, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True, env={**os.environ, "STACKGATE_REPORTS": str(tmp_path)},
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))  # a background job ignores SIGINT
    seen, deadline = [], time.monotonic() + 420
    for line in proc.stdout:
        seen.append(line)
        if "every replica healthy" in line or time.monotonic() > deadline:
            break
    time.sleep(5)  # into the checks
    proc.send_signal(signal.SIGINT)
    rest, _ = proc.communicate(timeout=300)
    seen.append(rest)
    text = "".join(seen)
    assert "every replica healthy" in text, text[-2000:]
    assert proc.returncode != 0 and "removed (services, networks, volumes)" in text, text[-2000:]
    assert _engine_view() == before
