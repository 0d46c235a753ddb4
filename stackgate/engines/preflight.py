"""Before a stack starts: an engine answers, the files exist and resolve, no published port is taken. Each
problem is a one-line error."""

from __future__ import annotations

import socket
from collections.abc import Iterable
from pathlib import Path

from stackgate.core import proc
from stackgate.core.errors import EngineError, StackStartError
from stackgate.machine import dockerd
from stackgate.manifest import Manifest


def published_ports(manifest: Manifest) -> dict[int, str]:
    """host port -> service, for every published port in the manifest."""
    ports = {o.port: o.name for o in manifest.ollamas.values()}
    ports.update({s.port: s.name for s in manifest.services.values() if s.port})
    return ports


def busy_ports(ports: dict[int, str], host: str = "127.0.0.1") -> list[str]:
    """'PORT (service)' for each port that something already listens on."""
    busy = []
    for port, service in sorted(ports.items()):
        with socket.socket() as s:
            s.settimeout(0.2)
            if s.connect_ex((host, port)) == 0:
                busy.append(f"{port} ({service})")
    return busy


def validate_compose(files: list[Path], project_dir: Path) -> None:
    """`docker compose config -q` over the files; a one-line error for a malformed file."""
    res = proc.run([*proc.compose_argv(project_dir, files), "config", "-q"], timeout=60)
    if res.returncode != 0:
        msg = " ".join((res.stderr or res.stdout).split())
        raise StackStartError(f"compose files are not valid: {msg[:400]}")


def preflight(manifest: Manifest, files: list[Path], skip_ports_of: Iterable[str] = (),
              hint: str = "stop what holds them or test that stack with --stack-reuse") -> None:
    """Fail fast, in one line, on what would make a start fail: no engine, a missing file, a busy port (except
    the ports of skip_ports_of, e.g. replicated Ollamas that publish none)."""
    if not dockerd.docker_info():
        raise EngineError("no Docker engine answers `docker info`: run `make setup` (or start Docker)")
    for f in files:
        if not f.is_file():
            raise StackStartError(f"compose file {f} does not exist")
    skip = set(skip_ports_of)
    busy = busy_ports({p: s for p, s in published_ports(manifest).items() if s not in skip})
    if busy:
        raise StackStartError(f"port(s) already in use on this host: {', '.join(busy)}; {hint}")
