"""The Security metric's evidence: compose-lint's findings over compose files, and our checks where it is silent.

compose-lint (PyPI, OWASP / CIS Docker Benchmark rules) reads the files as written; our checks read the
merged model (`docker compose config`) of a profile, so overrides count.
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from stackgate.core.errors import ComposeFileError
from stackgate.manifest import Manifest, Suppression

from .composefile import binds

LOOPBACK = ("127.0.0.1", "::1", "localhost")


@dataclass(frozen=True)
class LintFinding:
    """One compose-lint finding."""

    rule: str
    severity: str
    service: str
    message: str
    file: str


def compose_lint(files: list[Path]) -> list[LintFinding]:
    """compose-lint's findings over the files (each linted with the .env beside it); one-line error on failure."""
    exe = Path(sys.executable).parent / "compose-lint"
    argv = [str(exe), "check", "--format", "json", "--fail-on", "critical", *map(str, files)]
    try:
        res = subprocess.run(argv, capture_output=True, text=True, timeout=120, cwd=files[0].parent)
    except FileNotFoundError:
        raise ComposeFileError(f"compose-lint not installed at {exe}: run `make setup`") from None
    try:
        data = json.loads(res.stdout)
    except ValueError:
        raise ComposeFileError(f"compose-lint exited {res.returncode}: {' '.join(res.stderr.split())[:300]}") from None
    if data.get("errors"):
        raise ComposeFileError(f"compose-lint could not lint {', '.join(f.name for f in files)}: {data['errors']}")
    return [LintFinding(f["rule_id"], f["severity"], f.get("service") or "-", " ".join(f["message"].split()),
                        Path(f.get("file", "")).name) for f in data.get("findings", [])]


def suppression_for(finding: LintFinding, suppressions: tuple[Suppression, ...]) -> Suppression | None:
    """The manifest's suppression that covers a finding, if any."""
    return next((s for s in suppressions if s.covers(finding.rule, finding.service)), None)


def privileged(config: dict) -> dict[str, str]:
    """service -> why, for containers that run privileged or add every capability."""
    return {n: "privileged: true" if s.get("privileged") else "cap_add: ALL"
            for n, s in config["services"].items() if s.get("privileged") or "ALL" in (s.get("cap_add") or [])}


def docker_socket_mounts(config: dict) -> dict[str, str]:
    """service -> the mount that hands it the Docker engine."""
    return {n: f"{v.get('source')} -> {v.get('target')}" for n, s in config["services"].items()
            for v in s.get("volumes") or [] if "docker.sock" in str(v.get("source", ""))}


def host_network(config: dict) -> dict[str, str]:
    """service -> its network mode, for containers on the host's network (or pid/ipc namespace)."""
    return {n: f"{key}: host" for n, s in config["services"].items()
            for key in ("network_mode", "pid", "ipc") if s.get(key) == "host"}


def published_stores(config: dict, manifest: Manifest) -> dict[str, str]:
    """data store -> the ports it publishes (stores stay on the stack network)."""
    stores = [n for n, s in manifest.services.items() if s.kind == "store" and n in config["services"]]
    return {n: ", ".join(f"{ip or '0.0.0.0'}:{port}" for ip, port in binds(config, n))
            for n in stores if binds(config, n)}


def exposed_ollamas(config: dict, manifest: Manifest) -> dict[str, str]:
    """Ollama -> its binds beyond loopback (it has no authentication), unless the manifest says why it may."""
    out = {}
    for name in manifest.ollamas:
        if name not in config["services"] or name in manifest.exposed_ollamas:
            continue
        wide = [f"{ip or '0.0.0.0'}:{port}" for ip, port in binds(config, name) if ip not in LOOPBACK]
        if wide:
            out[name] = ", ".join(wide)
    return out
