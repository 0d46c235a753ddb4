"""Compose files as data: `docker compose config --format json` (merged, interpolated), and what they say."""

from __future__ import annotations

import json
import re
from pathlib import Path
from urllib.parse import urlparse

import yaml

from stackgate.core import proc
from stackgate.core.errors import ComposeFileError

from .ollama import normalise


def load_config(files: list[Path], project_dir: Path) -> dict:
    """The merged compose model of files; ComposeFileError (one line) when compose rejects them."""
    res = proc.run([*proc.compose_argv(project_dir, files), "config", "--format", "json"], timeout=60)
    if res.returncode == 127:
        raise ComposeFileError("docker CLI not found: run `make setup`")
    if res.returncode != 0:
        raise ComposeFileError(f"compose rejected {', '.join(f.name for f in files)}: "
                               f"{' '.join((res.stderr or res.stdout).split())[:300]}")
    return json.loads(res.stdout)


def environment(config: dict, service: str) -> dict[str, str]:
    """A service's environment (values as strings; unset ones as '')."""
    env = config["services"][service].get("environment") or {}
    return {k: "" if v is None else str(v) for k, v in env.items()}


def ollama_reached(url: str, config: dict, ollamas: list[str] | dict[str, int]) -> tuple[str | None, str]:
    """(the Ollama (or OpenAI server) a URL reaches inside the network, or None; why) — host and port both
    checked; ollamas: names (each listening on 11434) or name -> its port inside."""
    ports = ollamas if isinstance(ollamas, dict) else {o: 11434 for o in ollamas}
    parsed = urlparse(url)
    host, port = parsed.hostname, parsed.port or 80
    if host not in ports:
        return None, f"{url} names no Ollama service (host {host!r})"
    if port != ports[host]:
        return None, f"{url} uses port {port}; inside the network {host} listens on {ports[host]}"
    return host, ""


def models_pulled(config: dict, ollama: str) -> set[str]:
    """The models a backend holds from its start: an Ollama's $MODELS, or the names an OpenAI server (vLLM) is
    told to serve (`--served-model-name`), normalised."""
    names = environment(config, ollama).get("MODELS", "").split()
    command = config["services"][ollama].get("command") or []
    if "--served-model-name" in command:
        for arg in command[command.index("--served-model-name") + 1:]:
            if str(arg).startswith("--"):
                break
            names.append(str(arg))
    return {normalise(m) for m in names}


def named_volumes(config: dict, service: str) -> dict[str, str]:
    """target path -> named volume (key in the file, not the project-prefixed name) of a service."""
    out = {}
    for v in config["services"][service].get("volumes") or []:
        if v.get("type") == "volume" and v.get("source"):
            out[v["target"]] = v["source"]
    return out


def published(config: dict, service: str) -> dict[int, int]:
    """host port -> container port of a service."""
    out = {}
    for p in config["services"][service].get("ports") or []:
        if p.get("published"):
            out[int(p["published"])] = int(p["target"])
    return out


def binds(config: dict, service: str) -> list[tuple[str, str]]:
    """(host address, host port) of each port a service publishes ('' address: every interface)."""
    return [(str(p.get("host_ip") or ""), str(p["published"])) for p in config["services"][service].get("ports") or []
            if p.get("published")]


_CONSTANT = re.compile(r"^\s*(true|/bin/true|:|exit\s+0|echo\b[^|;&]*)\s*$")
_SWALLOWED = re.compile(r"(\|\|\s*(true|:|exit\s+0)|;\s*(true|exit\s+0))\s*$")
_VERSION = re.compile(r"(^|\s)(--version|version)\s*$")
_PORT_PROBE = re.compile(r"/dev/tcp/|\bnc\b[^|;&]*\s-z|\b(curl|wget)\b[^|;&]*/api/version")


def healthcheck_cannot_fail(config: dict, service: str, holds_models: bool) -> str | None:
    """Why a service's healthcheck passes whatever it guards (a constant, a swallowed exit status, `--version`,
    a bare liveness probe on a server that must hold models), or None when it can fail."""
    check = config["services"][service].get("healthcheck") or {}
    test = check.get("test") or []
    if not test or check.get("disable") or test[0] == "NONE":
        return None  # no healthcheck at all: test_every_service_has_a_healthcheck says so
    command = test[1] if test[0] == "CMD-SHELL" else " ".join(test[1:] if test[0] == "CMD" else test)
    if _CONSTANT.match(command):
        return f"`{command}` is a constant"
    if _SWALLOWED.search(command):
        return f"`{command}` swallows the exit status"
    if _VERSION.search(command):
        return f"`{command}` only prints a version"
    if holds_models and _PORT_PROBE.search(command):
        return f"`{command}` only probes the port of a server that must hold models"
    return None


def keys_set(override: Path) -> dict[str, list[str]]:
    """service -> every key an override file sets on it, as dotted paths one level into mappings
    ('environment.UPSTREAM_TIMEOUT', 'healthcheck.start_period', 'labels.org.stackgate.standin'); anchors and
    merge keys resolved as Compose resolves them."""
    doc = yaml.safe_load(override.read_text()) or {}
    out: dict[str, list[str]] = {}
    for name, svc in (doc.get("services") or {}).items():
        keys: list[str] = []
        for key, value in (svc or {}).items():
            if key == "environment" and isinstance(value, list):
                value = dict(str(v).partition("=")[::2] for v in value)
            if isinstance(value, dict) and key != "build":
                keys += [f"{key}.{sub}" for sub in value] or [key]
            else:
                keys.append(key if key != "build" else "build.*")
        out[name] = keys
    return out


def cpu_set(spec: str) -> set[int]:
    """The CPUs of a cpuset string ('0-3,6')."""
    out: set[int] = set()
    for part in str(spec).split(","):
        lo, _, hi = part.strip().partition("-")
        if lo:
            out |= set(range(int(lo), int(hi or lo) + 1))
    return out


def seconds(duration: str | int | float | None) -> float:
    """A compose / Go duration ('2s', '10m0s', '1h30m', '500ms') in seconds; 0 for none."""
    if duration in (None, ""):
        return 0.0
    if isinstance(duration, (int, float)):
        return float(duration) / 1e9  # compose config gives nanoseconds for bare numbers
    units = {"h": 3600, "m": 60, "s": 1, "ms": 1e-3, "us": 1e-6, "µs": 1e-6, "ns": 1e-9}
    parts = re.findall(r"(\d+(?:\.\d+)?)(ms|us|µs|ns|h|m|s)", duration)
    if not parts:
        raise ComposeFileError(f"not a duration: {duration!r}")
    return sum(float(n) * units[u] for n, u in parts)


def healthcheck_budget_s(config: dict, service: str) -> float:
    """Seconds a service may take to become healthy before it is declared unhealthy: start_period plus
    retries x interval (Docker's defaults: 30 s interval, 3 retries)."""
    check = config["services"][service].get("healthcheck") or {}
    interval = seconds(check.get("interval")) or 30.0
    return seconds(check.get("start_period")) + interval * int(check.get("retries") or 3)


def image_ref(config: dict, service: str) -> tuple[str, str]:
    """(repository, tag) of a service's image; tag '' when none is given (which means latest)."""
    image = str(config["services"][service].get("image") or "").split("@", 1)[0]  # a digest pins the tag further
    repo, _, tag = image.rpartition(":") if ":" in image.rsplit("/", 1)[-1] else (image, "", "")
    return repo, tag


def pinned_version(requirements: Path, package: str) -> str | None:
    """The exact version a requirements file pins a package to (`pkg==X`), or None when it does not pin it."""
    for line in requirements.read_text().splitlines():
        m = re.match(rf"^\s*{re.escape(package)}(\[[^\]]*\])?\s*==\s*([\w.+-]+)", line, re.IGNORECASE)
        if m:
            return m.group(2)
    return None
