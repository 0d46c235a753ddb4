"""The compose engine: a compose project started with testcontainers, watched, inspected, torn down.

`StackCompose` adds what testcontainers' DockerCompose lacks (a project name, a bounded wait, no unbounded
subprocess); `ComposeStack` is the `base.Stack` over a compose project; `StackRun` its lifecycle (`base.Run`).
"""

from __future__ import annotations

import os
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property
from pathlib import Path

import docker
from testcontainers.compose import DockerCompose

from stackgate.core import proc
from stackgate.core.errors import StackStartError
from stackgate.manifest import Manifest

from . import identity, reaper, sweep
from .base import Log, Stack, healthcheck_undecided, state_of
from .preflight import preflight, validate_compose


@dataclass
class StackCompose(DockerCompose):
    """testcontainers' DockerCompose with a project name, `--wait-timeout` and command timeouts."""

    project_name: str = "rma"
    wait_timeout: float = 600
    command_timeout: float = 900
    env: dict[str, str] = field(default_factory=dict)  # extra environment for the compose files' interpolation

    @cached_property
    def compose_command_property(self) -> list[str]:
        return proc.compose_argv(self.context, self.compose_file_name, self.project_name)

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

    def start(self, abort: Callable[[], str | None] = lambda: None) -> None:
        """`up -d --wait` (no --remove-orphans: a rollback must see what the seed's commands leave); checked every
        second with abort(), whose reason (a service in a crash loop) ends the wait at once as a failure."""
        cmd = [*self.compose_command_property, "up", "--detach", "--wait", "--wait-timeout", str(int(self.wait_timeout)),
               "--no-color", "--quiet-pull"]
        started = time.monotonic()
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=str(self.context),
                                env={**os.environ, **self.env})
        while True:
            try:
                out, err = proc.communicate(timeout=1)
                break
            except subprocess.TimeoutExpired:
                why = abort() if proc.poll() is None else None
                if why or time.monotonic() - started > self.command_timeout:
                    proc.terminate()
                    out, err = proc.communicate()
                    if why:
                        raise subprocess.CalledProcessError(1, cmd, out, (err or b"") + why.encode()) from None
                    raise subprocess.TimeoutExpired(cmd, self.command_timeout, out, err) from None
        if proc.returncode:
            raise subprocess.CalledProcessError(proc.returncode, cmd, out, err)

    def down(self) -> None:
        """`down` as the seed's rollback writes it: containers and networks go, volumes and orphans stay."""
        self._run_command([*self.compose_command_property, "down"])

    def recreate(self, service: str, env: dict[str, str] | None = None) -> None:
        """Recreate one service's container (its volumes kept) with extra environment for the compose files'
        interpolation, and wait until it is healthy; its dependents are left alone."""
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
                              timeout=self.command_timeout, env={**os.environ, **self.env})


def volume_exists(name: str) -> bool:
    """True when the engine has a volume of this name."""
    return subprocess.run(["docker", "volume", "inspect", name], capture_output=True, timeout=30).returncode == 0


@dataclass
class ComposeStack(Stack):
    """A running compose project."""

    engine = "compose"
    compose: StackCompose | None = None

    @property
    def driver(self) -> StackCompose:
        """The compose driver of this project (for a reused stack: one over the manifest's files)."""
        if self.compose is None:
            self.compose = StackCompose.for_files(self.manifest, self.files, self.project,
                                                  self.manifest.startup_timeout_s(first_run=False))
        return self.compose

    def switch_layout(self, manifest: Manifest, layout: str, compose: StackCompose, files: list[Path]) -> None:
        """The project now runs another layout (a rollback): judged by manifest from now on, driven by compose."""
        self.manifest, self.layout, self.compose, self.files = manifest, layout, compose, files
        self.ready_at = time.time()

    def restart(self, service: str) -> None:
        self.driver.restart(service)

    def recreate(self, service: str, env: dict[str, str] | None = None) -> None:
        self.driver.recreate(service, env)

    def containers(self) -> dict[str, docker.models.containers.Container]:
        """compose service -> its container (all states)."""
        found = self.client.containers.list(all=True, filters={"label": f"com.docker.compose.project={self.project}"})
        return {c.labels.get("com.docker.compose.service", c.name): c for c in found}

    def networks(self) -> dict[str, str]:
        """compose network key -> engine network name, for the project's networks."""
        found = self.client.networks.list(filters={"label": f"com.docker.compose.project={self.project}"})
        return {n.attrs.get("Labels", {}).get("com.docker.compose.network", n.name): n.name for n in found}

    def pause(self, services: list[str]) -> list[str]:
        containers, frozen = self.containers(), []
        for name in services:
            c = containers.get(name)
            if c is not None and c.attrs.get("State", {}).get("Status") == "running":
                c.pause()
                frozen.append(name)
        return frozen

    def unpause(self, services: list[str]) -> None:
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
# after a failed start, how long undecided healthchecks may take to say whether they fail too (3 probes at 2 s)
SETTLE_S = 15.0


def crash_loop(stack: Stack, restarts: int = 3) -> str | None:
    """Why a start cannot succeed: a service the engine restarted `restarts` times without it becoming healthy."""
    try:
        looping = {n: c.attrs.get("RestartCount", 0) for n, c in stack.containers().items()
                   if c.attrs.get("RestartCount", 0) >= restarts and state_of(c) != "healthy"}
    except Exception:  # noqa: BLE001 - the engine may be busy; the wait goes on
        return None
    return ("; ".join(f"{n} restarted {k} times without becoming healthy (a crash loop)" for n, k in looping.items())
            or None)


def root_causes(states: dict[str, str], failing: dict[str, str] | None = None) -> dict[str, str]:
    """The services that failed by themselves (exited, unhealthy, dead, or still starting while their healthcheck
    fails probe after probe), not those waiting on them."""
    failing = failing or {}
    return {n: (f"{s}: {failing[n]}" if n in failing else s) for n, s in sorted(states.items())
            if s not in WAITING or n in failing}


def settle(stack: Stack, window_s: float = 15.0, poll_s: float = 1.0, clock: Callable[[], float] = time.monotonic,
           sleep: Callable[[float], None] = time.sleep) -> None:
    """Wait (at most window_s) until no starting container's healthcheck is undecided (see healthcheck_undecided):
    a start that failed early, on a crash loop, still reports every service that fails by itself."""
    end = clock() + window_s
    while clock() < end:
        try:
            if not any(healthcheck_undecided(c) for c in stack.containers().values()):
                return
        except Exception:  # noqa: BLE001 - the engine may be busy; the report goes on without the wait
            return
        sleep(poll_s)


def causes_of(stack: Stack, settle_s: float = 0.0) -> dict[str, str]:
    """root_causes of a stack, after letting undecided healthchecks settle for up to settle_s ({} when the engine
    cannot be asked)."""
    if settle_s:
        settle(stack, settle_s)
    try:
        return root_causes(stack.states(), stack.failing_healthchecks())
    except Exception:  # noqa: BLE001 - a failure report must not fail itself
        return {}


def failure_summary(stack: Stack, exc: BaseException, tail: int = 15) -> str:
    """Why `up` failed: unhealthy/exited services and the last lines of their logs."""
    try:
        states = stack.states()
    except Exception:  # noqa: BLE001
        states = {}
    try:
        failing = stack.failing_healthchecks()
    except Exception:  # noqa: BLE001
        failing = {}
    bad = {n: (f"{s}: {failing[n]}" if n in failing else s) for n, s in states.items() if s not in ("healthy", "running")}
    err = getattr(exc, "stderr", b"") or str(exc).encode()
    err_text = err.decode(errors="replace") if isinstance(err, bytes) else str(err)
    lines = [ln for ln in err_text.splitlines() if ln.strip()][-3:]
    parts = [f"stack {stack.project} did not come up healthy: {'; '.join(lines) or type(exc).__name__}"]
    for name, st in sorted(bad.items()):
        parts.append(f"--- {name}: {st}; last log lines:")
        parts += ["    " + ln for ln in stack.logs(name, tail=tail)]
    return "\n".join(parts)


class StackRun:
    """One stack's lifecycle: `start()` (safe to call from a background thread) and `stop()`."""

    def __init__(self, manifest: Manifest, profiles: list[str], layout: str = "separated", reuse: bool = False,
                 keep: bool = False, project: str | None = None, log: Log = print) -> None:
        self.manifest, self.profiles, self.layout = manifest, profiles, layout
        self.reuse, self.keep, self.project, self.log = reuse, keep, project, log
        self.stack: ComposeStack | None = None
        self.watcher: Watcher | None = None
        self._stopped = False

    def start(self) -> ComposeStack:
        """Start (or adopt, with reuse) the stack and return it healthy; StackgateError when it is not."""
        files = self.manifest.compose_files(self.layout, self.profiles)
        if self.reuse:
            stack = ComposeStack(self.manifest, self.layout, self.project or "rma", files, reused=True)
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
        name = self.project or identity.new_project_name()
        first_run = not any(volume_exists(f"{name}_{o.volume}") for o in self.manifest.ollamas.values())
        compose = StackCompose.for_layout(self.manifest, self.layout, self.profiles, name, first_run)
        stack = self.stack = ComposeStack(self.manifest, self.layout, name, files, first_run=first_run,
                                          bound_s=compose.wait_timeout, compose=compose)
        reaper.start(name)  # removes the project, anonymous volumes included, if this process is killed
        self.watcher = Watcher(stack, self.log)
        self.log(f"stack: starting {self.layout} ({'+'.join(self.profiles) or 'base'}) as project {name}")
        self.watcher.start()
        try:
            compose.start(abort=lambda: crash_loop(stack))
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as exc:
            causes = causes_of(stack, settle_s=SETTLE_S)  # first: the summary then shows the settled states
            raise StackStartError(failure_summary(stack, exc), causes) from None
        # a service that exited, or one whose dependents never started, is no healthy stack
        states = stack.states()
        not_up = {n: s for n, s in states.items() if s not in ("healthy", "running")}
        if not_up:
            raise StackStartError(failure_summary(stack, RuntimeError(
                "up --wait returned, but not every service is up: "
                + ", ".join(f"{n} {s}" for n, s in sorted(not_up.items())))), causes_of(stack) or not_up)
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

