"""The one interface every engine's running stack offers the gate (`Stack`), and the lifecycle (`Run`) that
starts and stops it. Compose (`compose.ComposeStack`) and swarm (`swarm.SwarmStack`) implement both; the layers
above never ask which engine runs."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property
from pathlib import Path
from typing import ClassVar, Protocol

import docker

from stackgate.manifest import Manifest

Log = Callable[[str], None]
Container = docker.models.containers.Container


def container_logs(c: Container, since: float | None = None, tail: int | str = "all",
                   until: float | None = None) -> list[str]:
    """Lines a container printed (stdout and stderr), optionally between two epoch times; [] for a container the
    engine has just removed."""
    kwargs: dict = {"tail": tail}
    if since is not None:
        kwargs["since"] = datetime.fromtimestamp(since, UTC)
    if until is not None:
        kwargs["until"] = datetime.fromtimestamp(until, UTC)
    try:
        return c.logs(**kwargs).decode(errors="replace").splitlines()
    except docker.errors.NotFound:
        return []


def state_of(c: Container) -> str:
    """'healthy', 'unhealthy', 'starting', 'running' (no healthcheck) or the container status ('exited (1)')."""
    state = c.attrs.get("State", {})
    health = (state.get("Health") or {}).get("Status")
    status = state.get("Status", "?")
    if status == "exited":
        status = f"exited ({state.get('ExitCode')})"
    return health if status == "running" and health else status


def failing_healthcheck(c: Container, streak: int = 3) -> str | None:
    """Why a starting container's healthcheck keeps failing ('healthcheck failed 5 times in a row, last: exit 1:
    wget: can't connect ...'), once it failed `streak` probes in a row past its start period; else None."""
    health = (c.attrs.get("State") or {}).get("Health") or {}
    if health.get("Status") != "starting" or int(health.get("FailingStreak") or 0) < streak or not health.get("Log"):
        return None
    last = health["Log"][-1]
    output = " ".join(str(last.get("Output") or "").split())[:200]
    return (f"healthcheck failed {health['FailingStreak']} times in a row, last: exit {last.get('ExitCode')}: "
            f"{output or '(no output)'}")


def healthcheck_undecided(c: Container, streak: int = 3) -> bool:
    """Whether a starting container's healthcheck has not yet said either way: no probe yet, or its last probe
    failed but fewer than `streak` in a row (a typo'd probe is a root cause a few seconds later)."""
    state = c.attrs.get("State") or {}
    health = state.get("Health") or {}
    if state.get("Status") != "running" or health.get("Status") != "starting":
        return False
    log = health.get("Log") or []
    return not log or (log[-1].get("ExitCode") != 0 and int(health.get("FailingStreak") or 0) < streak)


@dataclass
class Stack:
    """A running stack: its containers, IPs, logs, health and start-up timings, whatever engine runs it."""

    engine: ClassVar[str] = "?"
    publishes_ollamas: ClassVar[bool] = True  # its Ollamas answer on their host ports (swarm replicas do not)

    manifest: Manifest
    layout: str
    project: str
    files: list[Path]
    started_at: float = field(default_factory=time.time)
    ready_at: float | None = None
    healthy_after_s: dict[str, float] = field(default_factory=dict)
    reused: bool = False
    first_run: bool | None = None  # the Ollamas' model volumes were empty (new) before the start
    bound_s: float | None = None   # the start-up bound it was started within (None: reused)

    # --- what each engine implements -------------------------------------------------------------------------
    def containers(self) -> dict[str, Container]:
        """service -> its container (all states; for a replicated service one running replica)."""
        raise NotImplementedError

    def service_containers(self) -> list[tuple[str, Container]]:
        """(service, container) for every container of the stack, every replica included."""
        return list(self.containers().items())

    def networks(self) -> dict[str, str]:
        """network key in the files -> engine network name."""
        raise NotImplementedError

    def depends_on(self, service: str) -> list[str]:
        """The services the compose files make this one wait for."""
        raise NotImplementedError

    def pause(self, services: list[str]) -> list[str]:
        """Freeze the running containers of services (ports still accept, nothing answers); those frozen."""
        raise NotImplementedError

    def unpause(self, services: list[str]) -> None:
        """Thaw what pause() froze (each one even if another fails)."""
        raise NotImplementedError

    def restart(self, service: str) -> None:
        """Restart one service in place (same container, same volumes)."""
        raise NotImplementedError(f"{self.engine}: restarting one service is not supported")

    def recreate(self, service: str, env: dict[str, str] | None = None) -> None:
        """Recreate one service's container (volumes kept) with extra environment for the files' interpolation,
        and wait until it is healthy; its dependents are left alone."""
        raise NotImplementedError(f"{self.engine}: recreating one service is not supported")

    def describe(self) -> list[tuple[str, str]]:
        """Rows the report adds about the engine (label, value)."""
        return []

    # --- the same on every engine ------------------------------------------------------------------------------
    @cached_property
    def client(self) -> docker.DockerClient:
        return docker.from_env(timeout=60)

    def own_start_s(self) -> dict[str, float]:
        """service -> seconds from the moment the last of its dependencies was healthy to its own healthy (from `up`
        for a service without any): its own start, apart from a slow machine or a slow dependency."""
        out = {}
        for name, t in self.healthy_after_s.items():
            try:
                deps = [self.healthy_after_s[d] for d in self.depends_on(name) if d in self.healthy_after_s]
            except (NotImplementedError, KeyError):
                deps = []
            out[name] = round(t - max(deps, default=0.0), 1)
        return out

    def healthy_at(self, service: str) -> float:
        """Epoch time at which a service became healthy (its 'after initialization' point)."""
        if service in self.healthy_after_s:
            return self.started_at + self.healthy_after_s[service]
        return self.ready_at or self.started_at

    def states(self) -> dict[str, str]:
        """service -> its state (see state_of)."""
        return {name: state_of(c) for name, c in self.containers().items()}

    def failing_healthchecks(self) -> dict[str, str]:
        """service -> why its healthcheck keeps failing, for each service still starting (see failing_healthcheck)."""
        return {name: why for name, c in self.containers().items() if (why := failing_healthcheck(c))}

    def ip_map(self) -> dict[str, str]:
        """container IP on the stack network -> compose service (every replica's)."""
        out = {}
        for name, c in self.service_containers():
            for net, cfg in (c.attrs.get("NetworkSettings", {}).get("Networks") or {}).items():
                if net.endswith(self.manifest.network) and cfg.get("IPAddress"):
                    out[cfg["IPAddress"]] = name
        return out

    def logs(self, service: str, since: float | None = None, tail: int | str = "all",
             until: float | None = None) -> list[str]:
        """Every line a service's containers printed (replica by replica), optionally between two epoch times."""
        lines: list[str] = []
        found = False
        for name, c in self.service_containers():
            if name == service:
                found = True
                lines += container_logs(c, since, tail, until)
        return lines if found else [f"(no container for {service})"]

    def env(self, service: str) -> dict[str, str]:
        """The environment a service's container runs with."""
        c = self.containers()[service]
        return dict(e.split("=", 1) for e in c.attrs["Config"]["Env"] if "=" in e)

    def run_healthcheck(self, service: str, env: dict[str, str] | None = None) -> tuple[int, str]:
        """(exit code, output) of the service's own healthcheck command, run now inside its container,
        optionally with a changed environment."""
        c = self.containers()[service]
        test = (c.attrs["Config"].get("Healthcheck") or {}).get("Test") or ["NONE"]
        if test[0] == "NONE":
            return 0, "(no healthcheck)"
        argv = ["sh", "-c", test[1]] if test[0] == "CMD-SHELL" else list(test[1:])
        res = c.exec_run(argv, environment=env, demux=False)
        return res.exit_code, (res.output or b"").decode(errors="replace").strip()

    def image_ids(self) -> dict[str, str]:
        """service -> 'image ref (short id)'."""
        return {name: f"{c.attrs['Config']['Image']} ({c.attrs['Image'].split(':')[-1][:12]})"
                for name, c in sorted(self.containers().items())}

    def standins(self) -> dict[str, str]:
        """service -> what it stands in for, from the `org.stackgate.standin` label of its image."""
        return {name: c.labels["org.stackgate.standin"] for name, c in sorted(self.containers().items())
                if c.labels.get("org.stackgate.standin")}

    def url(self, service: str) -> str:
        return self.manifest.url(service)


class Run(Protocol):
    """One stack's lifecycle: start() (safe from a background thread) returns it healthy or raises a
    StackgateError; stop() tears down what start() made, once, and is safe to call at any time."""

    stack: Stack | None

    def start(self) -> Stack: ...

    def stop(self) -> None: ...
