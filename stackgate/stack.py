"""The stack driver: a compose project started with testcontainers, watched, inspected, torn down.

`StackCompose` adds what testcontainers' DockerCompose lacks (a project name, a bounded wait, no
unbounded subprocess); `Stack` is the handle the suite uses; `running_stack` is the context
manager the session fixture wraps.
"""

from __future__ import annotations

import contextlib
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property
from pathlib import Path

import docker
from testcontainers.compose import DockerCompose

from . import engine, reaper, sweep
from .errors import EngineError, StackStartError
from .manifest import Manifest

Log = Callable[[str], None]


@dataclass
class StackCompose(DockerCompose):
    """testcontainers' DockerCompose with a project name, `--wait-timeout` and command timeouts."""

    project_name: str = "rma"
    wait_timeout: float = 600
    command_timeout: float = 900

    @cached_property
    def compose_command_property(self) -> list[str]:
        return [*super().compose_command_property, "-p", self.project_name]

    @classmethod
    def for_layout(cls, manifest: Manifest, layout: str, profiles: list[str], project: str,
                   first_run: bool = False) -> StackCompose:
        """The one way to drive a layout of the manifest's stack as a project, bounded by its start-up budget
        (first run: the model volumes are empty; else a later start)."""
        return cls.for_files(manifest, manifest.compose_files(layout, profiles), project,
                             manifest.startup_timeout_s(profiles, first_run))

    @classmethod
    def for_files(cls, manifest: Manifest, files: list[Path], project: str, bound: float) -> StackCompose:
        """A driver for a project of these compose files, its waits bounded by bound seconds."""
        return cls(context=str(manifest.project_dir), compose_file_name=[str(f) for f in files],
                   project_name=project, wait_timeout=bound, command_timeout=bound + 60)

    def start(self) -> None:
        """`up -d --wait` (no --remove-orphans: a rollback must see what the seed's commands leave)."""
        self._run_command([*self.compose_command_property, "up", "--detach", "--wait", "--wait-timeout",
                           str(int(self.wait_timeout)), "--no-color", "--quiet-pull"])

    def down(self) -> None:
        """`down` as the seed's rollback writes it: containers and networks go, volumes and orphans stay."""
        self._run_command([*self.compose_command_property, "down"])

    def recreate(self, service: str, env: dict[str, str] | None = None) -> None:
        """Recreate one service's container (its volumes kept) with extra environment for the compose files'
        interpolation, and wait until it is healthy; its dependents are left alone."""
        import os

        subprocess.run([*self.compose_command_property, "up", "--detach", "--no-deps", "--force-recreate", "--wait",
                        "--wait-timeout", str(int(self.wait_timeout)), "--no-color", service],
                       capture_output=True, check=True, cwd=str(self.context), timeout=self.command_timeout,
                       env={**os.environ, **(env or {})})

    def restart(self, service: str) -> None:
        """`docker compose restart` one service (same container, same volumes)."""
        self._run_command([*self.compose_command_property, "restart", service])

    def discard(self) -> None:
        """Tear a throw-away stack down fast: `down --volumes --timeout 0` (no graceful stop: its data goes)."""
        self._run_command([*self.compose_command_property, "down", "--volumes", "--timeout", "0"])

    def _run_command(self, cmd, context=None):  # noqa: ANN001, ANN202 - same signature as the base
        return subprocess.run(cmd, capture_output=True, check=True, cwd=context or str(self.context),
                              timeout=self.command_timeout)


def volume_exists(name: str) -> bool:
    """True when the engine has a volume of this name."""
    return subprocess.run(["docker", "volume", "inspect", name], capture_output=True, timeout=30).returncode == 0


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


@dataclass
class Stack:
    """A running compose project: containers, IPs, logs, health, start-up timings."""

    manifest: Manifest
    layout: str
    project: str
    files: list[Path]
    compose: StackCompose | None = None
    started_at: float = field(default_factory=time.time)
    ready_at: float | None = None
    healthy_after_s: dict[str, float] = field(default_factory=dict)
    reused: bool = False
    first_run: bool | None = None  # the Ollamas' model volumes were empty (new) before `up`

    @property
    def driver(self) -> StackCompose:
        """The compose driver of this project (for a reused stack: one over the manifest's files)."""
        if self.compose is None:
            self.compose = StackCompose.for_files(self.manifest, self.files, self.project,
                                                  self.manifest.startup_timeout_s(first_run=False))
        return self.compose

    def healthy_at(self, service: str) -> float:
        """Epoch time at which a service became healthy (its 'after initialization' point)."""
        if service in self.healthy_after_s:
            return self.started_at + self.healthy_after_s[service]
        return self.ready_at or self.started_at

    @cached_property
    def client(self) -> docker.DockerClient:
        return docker.from_env(timeout=60)

    def containers(self) -> dict[str, docker.models.containers.Container]:
        """compose service -> its container (all states)."""
        found = self.client.containers.list(all=True, filters={"label": f"com.docker.compose.project={self.project}"})
        return {c.labels.get("com.docker.compose.service", c.name): c for c in found}

    def networks(self) -> dict[str, str]:
        """compose network key -> engine network name, for the project's networks."""
        found = self.client.networks.list(filters={"label": f"com.docker.compose.project={self.project}"})
        return {n.attrs.get("Labels", {}).get("com.docker.compose.network", n.name): n.name for n in found}

    def states(self) -> dict[str, str]:
        """service -> 'healthy', 'unhealthy', 'starting', 'running' (no healthcheck) or the container status."""
        out = {}
        for name, c in self.containers().items():
            state = c.attrs.get("State", {})
            health = (state.get("Health") or {}).get("Status")
            status = state.get("Status", "?")
            if status == "exited":
                status = f"exited ({state.get('ExitCode')})"
            out[name] = health if status == "running" and health else status
        return out

    def ip_map(self) -> dict[str, str]:
        """container IP on the stack network -> compose service."""
        out = {}
        for name, c in self.containers().items():
            for net, cfg in (c.attrs.get("NetworkSettings", {}).get("Networks") or {}).items():
                if net.endswith(self.manifest.network) and cfg.get("IPAddress"):
                    out[cfg["IPAddress"]] = name
        return out

    def env(self, service: str) -> dict[str, str]:
        """The environment a service's container runs with."""
        c = self.containers()[service]
        return dict(e.split("=", 1) for e in c.attrs["Config"]["Env"] if "=" in e)

    def logs(self, service: str, since: float | None = None, tail: int | str = "all",
             until: float | None = None) -> list[str]:
        """Lines a service's container printed (stdout and stderr), optionally between two epoch times."""
        c = self.containers().get(service)
        if c is None:
            return [f"(no container for {service})"]
        kwargs: dict = {"tail": tail}
        if since is not None:
            kwargs["since"] = datetime.fromtimestamp(since, UTC)
        if until is not None:
            kwargs["until"] = datetime.fromtimestamp(until, UTC)
        return c.logs(**kwargs).decode(errors="replace").splitlines()

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

    def pause(self, services: list[str]) -> list[str]:
        """Freeze the running ones of services' containers (their ports still accept connections, nothing
        answers); return those it froze."""
        containers, frozen = self.containers(), []
        for name in services:
            c = containers.get(name)
            if c is not None and c.attrs.get("State", {}).get("Status") == "running":
                c.pause()
                frozen.append(name)
        return frozen

    def unpause(self, services: list[str]) -> None:
        """Thaw what pause() froze (each one even if another fails)."""
        containers, errors = self.containers(), []
        for name in services:
            try:
                containers[name].unpause()
            except docker.errors.APIError as exc:
                errors.append(f"{name}: {exc}")
        if errors:
            raise StackStartError("could not unpause " + "; ".join(errors))

    def depends_on(self, service: str) -> list[str]:
        """The services a service's container was started after (compose's depends_on label)."""
        label = self.containers()[service].labels.get("com.docker.compose.depends_on", "")
        return [entry.split(":", 1)[0] for entry in label.split(",") if entry]

    def image_ids(self) -> dict[str, str]:
        """service -> 'image ref (short id)'."""
        return {name: f"{c.attrs['Config']['Image']} ({c.attrs['Image'].split(':')[-1][:12]})"
                for name, c in sorted(self.containers().items())}

    def url(self, service: str) -> str:
        return self.manifest.url(service)

    def standins(self) -> dict[str, str]:
        """service -> what it stands in for, from the `org.stackgate.standin` label of its image."""
        return {name: c.labels["org.stackgate.standin"] for name, c in sorted(self.containers().items())
                if c.labels.get("org.stackgate.standin")}

    def last_start(self) -> float:
        """Epoch time at which the most recently started container of the project started."""
        starts = [datetime.fromisoformat(c.attrs["State"]["StartedAt"][:26].rstrip("Z")).replace(tzinfo=UTC)
                  for c in self.containers().values() if c.attrs["State"].get("StartedAt")]
        return max(starts).timestamp() if starts else time.time()


class Watcher(threading.Thread):
    """Polls container health every second: records time-to-healthy, prints who is still starting."""

    def __init__(self, stack: Stack, log: Log, every_s: float = 5.0) -> None:
        super().__init__(daemon=True)
        self.stack, self.log, self.every_s = stack, log, every_s
        self.done = threading.Event()

    def run(self) -> None:
        last_print = time.monotonic()
        while not self.done.wait(1.0):
            try:
                states = self.stack.states()
            except Exception:  # noqa: BLE001 - the engine may be busy; try again next second
                continue
            now = time.time()
            for name, st in states.items():
                if st in ("healthy", "running") and name not in self.stack.healthy_after_s:
                    self.stack.healthy_after_s[name] = round(now - self.stack.started_at, 1)
            if time.monotonic() - last_print >= self.every_s:
                last_print = time.monotonic()
                waiting = sorted(f"{n} ({s})" for n, s in states.items() if s not in ("healthy",))
                elapsed = now - self.stack.started_at
                self.log(f"stack: {elapsed:.0f}s, waiting for {len(waiting)}: {', '.join(waiting)}" if waiting
                         else f"stack: {elapsed:.0f}s, all healthy")


WAITING = ("created", "starting", "healthy", "running")


def root_causes(states: dict[str, str]) -> dict[str, str]:
    """The services that failed by themselves (exited, unhealthy, dead), not those waiting on them."""
    return {n: s for n, s in sorted(states.items()) if s not in WAITING}


def failure_summary(stack: Stack, exc: BaseException, tail: int = 15) -> str:
    """Why `up` failed: unhealthy/exited services and the last lines of their logs."""
    try:
        states = stack.states()
    except Exception:  # noqa: BLE001
        states = {}
    bad = {n: s for n, s in states.items() if s not in ("healthy", "running")}
    err = getattr(exc, "stderr", b"") or str(exc).encode()
    err_text = err.decode(errors="replace") if isinstance(err, bytes) else str(err)
    lines = [ln for ln in err_text.splitlines() if ln.strip()][-3:]
    parts = [f"stack {stack.project} did not come up healthy: {'; '.join(lines) or type(exc).__name__}"]
    for name, st in sorted(bad.items()):
        parts.append(f"--- {name}: {st}; last log lines:")
        parts += ["    " + ln for ln in stack.logs(name, tail=tail)]
    return "\n".join(parts)


def preflight(manifest: Manifest, files: list[Path]) -> None:
    """Fail fast, in one line, on what would make `up` fail: no engine, missing file, busy port."""
    if not engine.docker_info():
        raise EngineError("no Docker engine answers `docker info`: run `make setup` (or start Docker)")
    for f in files:
        if not f.is_file():
            raise StackStartError(f"compose file {f} does not exist")
    busy = busy_ports(published_ports(manifest))
    if busy:
        raise StackStartError(f"port(s) already in use on this host: {', '.join(busy)}; stop what holds them "
                              "or test that stack with --stack-reuse")


def validate_compose(files: list[Path], project_dir: Path) -> None:
    """`docker compose config -q` over the files; a one-line error for a malformed file."""
    argv = ["docker", "compose", "--project-directory", str(project_dir)]
    for f in files:
        argv += ["-f", str(f)]
    res = subprocess.run([*argv, "config", "-q"], capture_output=True, text=True, timeout=60)
    if res.returncode != 0:
        msg = " ".join((res.stderr or res.stdout).split())
        raise StackStartError(f"compose files are not valid: {msg[:400]}")


class StackRun:
    """One stack's lifecycle: `start()` (safe to call from a background thread) and `stop()`."""

    def __init__(self, manifest: Manifest, profiles: list[str], layout: str = "separated", reuse: bool = False,
                 keep: bool = False, project: str | None = None, log: Log = print) -> None:
        self.manifest, self.profiles, self.layout = manifest, profiles, layout
        self.reuse, self.keep, self.project, self.log = reuse, keep, project, log
        self.stack: Stack | None = None
        self.watcher: Watcher | None = None
        self._stopped = False

    def start(self) -> Stack:
        """Start (or adopt, with reuse) the stack and return it healthy; StackgateError when it is not."""
        files = self.manifest.compose_files(self.layout, self.profiles)
        if self.reuse:
            stack = Stack(self.manifest, self.layout, self.project or "rma", files, reused=True)
            if not stack.containers():
                raise StackStartError(f"--stack-reuse: no running compose project {stack.project!r}; "
                                      "name it with --stack-project")
            # "after initialization" for a stack we did not start: since its last container started
            stack.ready_at = stack.started_at = stack.last_start()
            self.log(f"stack: reusing the running project {stack.project}; starting and stopping nothing")
            self.stack = stack
            return stack
        swept = sweep.sweep(only_orphans=True, log=self.log)
        if swept:
            self.log(f"stack: swept leftovers of {len(swept)} aborted run(s)")
        validate_compose(files, self.manifest.project_dir)
        preflight(self.manifest, files)
        name = self.project or sweep.new_project_name()
        first_run = not any(volume_exists(f"{name}_{o.volume}") for o in self.manifest.ollamas.values())
        compose = StackCompose.for_layout(self.manifest, self.layout, self.profiles, name, first_run)
        stack = self.stack = Stack(self.manifest, self.layout, name, files, compose)
        stack.first_run = first_run
        reaper.start(name)  # removes the project, anonymous volumes included, if this process is killed
        self.watcher = Watcher(stack, self.log)
        self.log(f"stack: starting {self.layout} ({'+'.join(self.profiles) or 'base'}) as project {name}")
        self.watcher.start()
        try:
            compose.start()
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as exc:
            raise StackStartError(failure_summary(stack, exc), root_causes(stack.states())) from None
        # a service that exited, or one whose dependents never started, is no healthy stack
        states = stack.states()
        not_up = {n: s for n, s in states.items() if s not in ("healthy", "running")}
        if not_up:
            raise StackStartError(failure_summary(stack, RuntimeError(
                "up --wait returned, but not every service is up: "
                + ", ".join(f"{n} {s}" for n, s in sorted(not_up.items())))), root_causes(states) or not_up)
        stack.ready_at = time.time()
        for n in stack.containers():
            stack.healthy_after_s.setdefault(n, round(stack.ready_at - stack.started_at, 1))
        self.log(f"stack: all services healthy after {stack.ready_at - stack.started_at:.1f}s")
        return stack

    def stop(self) -> None:
        """Tear down what start() made (containers, networks, volumes), once; nothing for reuse/keep."""
        if self._stopped or self.stack is None or self.stack.reused:
            return
        self._stopped = True
        if self.watcher:
            self.watcher.done.set()
        stack = self.stack
        if stack.ready_at is None:  # stopped while `up` still runs (Ctrl-C, -x): it would go on creating containers
            killed = sweep.kill_compose_processes({stack.project})
            if killed:
                self.log(f"stack: stopped the `docker compose up` still starting {stack.project}")
        if self.keep:
            reaper.release(stack.project)
            self.log(f"stack: left running as project {stack.project} (--keep-stack); `make clean` removes it")
            return
        try:
            if stack.compose is not None:
                stack.compose.discard()
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired):
            pass
        # whatever the files did not declare (e.g. the rollback layout's volume) goes too
        sweep.remove([r for r in sweep.list_resources() if r.project == stack.project])
        reaper.stop(stack.project)  # and every anonymous volume its containers mounted during the run
        self.log(f"stack: project {stack.project} removed (containers, networks, volumes)")


@contextlib.contextmanager
def running_stack(manifest: Manifest, profiles: list[str], layout: str = "separated", reuse: bool = False,
                  keep: bool = False, project: str | None = None, log: Log = print) -> Iterator[Stack]:
    """Start (or adopt, with reuse) the stack; yield it healthy; always tear it down unless keep/reuse."""
    run = StackRun(manifest, profiles, layout, reuse, keep, project, log)
    try:
        yield run.start()
    finally:
        run.stop()
