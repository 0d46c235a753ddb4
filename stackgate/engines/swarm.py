"""The Swarm engine: the separated deployment as a `docker stack` with replicas of each Ollama.

`render` turns the manifest's compose files into a file `docker stack deploy` accepts (the scale override laid
over `docker compose config`); `SwarmEngine` puts the engine into swarm mode for a run and restores its state;
`SwarmStack` is the `base.Stack` over a stack's tasks (one service, several replica containers); `SwarmRun`
is its lifecycle (`base.Run`).
"""

from __future__ import annotations

import json
import os
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import docker
import yaml

from stackgate.core import proc
from stackgate.core.errors import EngineError, StackStartError
from stackgate.core.paths import reports_dir
from stackgate.core.wait import wait_until
from stackgate.manifest import Manifest, merged

from . import identity
from .base import Container, Log, Stack, container_logs
from .preflight import preflight, validate_compose

NAMESPACE = "com.docker.stack.namespace"
SERVICE_LABEL = "com.docker.swarm.service.name"
TASK_LABEL = "com.docker.swarm.task.name"
GWBRIDGE = "docker_gwbridge"
STATE_DIR = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "stackgate" / "swarm"
# compose keys `docker stack deploy` rejects or ignores: dropped from the rendered file, listed in the report
UNSUPPORTED = ("build", "pull_policy", "depends_on", "restart", "cpuset", "security_opt", "container_name")


# --- the rendered stack file --------------------------------------------------------------------------------

def _host_port(port: dict) -> dict:
    """A compose port as swarm publishes it here: on the node that runs the task (`mode: host`), no host IP."""
    return {"target": int(port["target"]), "published": int(port["published"]), "protocol": port.get("protocol", "tcp"),
            "mode": "host"}


def _stack_service(svc: dict) -> tuple[dict, list[str]]:
    """(the service as `docker stack deploy` reads it, the compose keys it drops)."""
    out, dropped = {}, []
    for key, value in svc.items():
        if key in UNSUPPORTED:
            dropped.append(key)
        elif value is None or key.startswith("x-"):
            continue
        elif key == "ports":
            out[key] = [_host_port(p) for p in value]
            if any(p.get("host_ip") for p in value):
                dropped.append("ports.host_ip (swarm binds every interface)")
        elif key == "environment":
            out[key] = {k: "" if v is None else str(v) for k, v in value.items()}
        elif key == "deploy":
            deploy = {k: v for k, v in value.items() if v not in ({}, None)}
            limits = (deploy.get("resources") or {}).get("limits") or {}
            if "cpus" in limits:
                limits["cpus"] = str(limits["cpus"])
            out[key] = deploy
        elif key == "volumes":
            out[key] = [{k: v for k, v in vol.items() if v != {}} for vol in value]
        else:
            out[key] = value
    return out, dropped


@dataclass(frozen=True)
class Rendered:
    """The stack file, the compose keys dropped per service (swarm does not take them), and the start order the
    compose files declare (swarm ignores it; the suite still reads which stores and Ollamas an app needs)."""

    doc: dict
    dropped: dict[str, list[str]]
    depends: dict[str, list[str]]


def render(manifest: Manifest, profiles: list[str], run: Callable = proc.run) -> Rendered:
    """The separated layout's stack file, scaled by the manifest's scale override. StackStartError (one line) when
    the files do not resolve."""
    if manifest.scale is None:
        raise StackStartError("--stack-engine swarm: the manifest declares no `scale` section (its stack file)")
    files = manifest.compose_files("separated", [p for p in profiles if p != "gpu"])  # v3: no device reservations
    validate_compose(files, manifest.project_dir)
    res = run([*proc.compose_argv(manifest.project_dir, files), "config", "--format", "json"], timeout=60)
    if res.returncode != 0:
        raise StackStartError(f"compose files are not valid: {' '.join(res.stderr.split())[:300]}")
    resolved = json.loads(res.stdout)
    services, dropped = {}, {}
    for name, svc in resolved["services"].items():
        services[name], gone = _stack_service(svc)
        if gone:
            dropped[name] = gone
    base = {"version": "3.8", "services": services,
            "networks": {k: {kk: vv for kk, vv in (v or {}).items() if kk not in ("name", "ipam")}
                         for k, v in (resolved.get("networks") or {}).items()},
            "volumes": {k: {} for k in resolved.get("volumes") or {}}}
    over_path = manifest.project_dir / manifest.scale.file
    try:
        over = yaml.safe_load(over_path.read_text())
    except (OSError, yaml.YAMLError) as exc:
        raise StackStartError(f"scale file {over_path} cannot be read: {' '.join(str(exc).split())[:200]}") from None
    over = {k: v for k, v in (over or {}).items() if not k.startswith("x-")}
    depends = {n: sorted(svc.get("depends_on") or {}) for n, svc in resolved["services"].items()}
    return Rendered(merged(base, over), dropped, depends)


def check_stack_file(path: Path, run: Callable = proc.run) -> None:
    """`docker stack config` over the rendered file (client-side): a one-line error for what swarm rejects."""
    res = run(["docker", "stack", "config", "-c", str(path)], timeout=60)
    if res.returncode != 0:
        raise StackStartError(f"the scaled stack file is not valid for swarm: {' '.join(res.stderr.split())[:300]}")


# --- the engine's swarm state --------------------------------------------------------------------------------

def swarm_state(run: Callable = proc.run) -> str:
    """The engine's swarm state: inactive, active, pending, locked or error ('' when no engine answers)."""
    res = run(["docker", "info", "--format", "{{.Swarm.LocalNodeState}}"], timeout=20)
    return res.stdout.strip() if res.returncode == 0 else ""


def _network_exists(name: str, run: Callable) -> bool:
    return run(["docker", "network", "inspect", name], timeout=20).returncode == 0


@dataclass
class SwarmEngine:
    """Swarm mode for one run: a single-node swarm if the engine is in none, and its state restored after."""

    run: Callable = proc.run
    initialised: bool = False
    marker: Path | None = None

    def enter(self, log: Log = print) -> None:
        state = swarm_state(self.run)
        if state == "active":
            return
        if state != "inactive":
            raise EngineError(f"--stack-engine swarm: the engine's swarm state is {state or 'unknown'!r}; "
                              "expected inactive (stackgate initialises one) or active")
        # the record first: a run killed before it could leave is restored from it by the next run's sweep
        STATE_DIR.mkdir(parents=True, exist_ok=True)
        self.marker = STATE_DIR / f"init-{os.getpid()}.json"
        self.marker.write_text(json.dumps({"pid": os.getpid(), "gwbridge_before": _network_exists(GWBRIDGE, self.run)}))
        res = self.run(["docker", "swarm", "init", "--advertise-addr", "127.0.0.1"], timeout=60)
        if res.returncode != 0:
            self.marker.unlink(missing_ok=True)
            raise EngineError(f"docker swarm init failed: {' '.join(res.stderr.split())[:200]}")
        self.initialised = True
        log("swarm: initialised a single-node swarm for this run (it is left again at the end)")

    def leave(self, log: Log = print) -> None:
        if not self.initialised or self.marker is None:
            return
        restore(self.marker, self.run)
        self.initialised = False
        log("swarm: left the swarm; the engine is as it was (swarm inactive)")


def restore(marker: Path, run: Callable = proc.run) -> None:
    """Leave the swarm a run initialised and remove the bridge network `swarm init` made (unless it was there)."""
    record = json.loads(marker.read_text())
    run(["docker", "swarm", "leave", "--force"], timeout=60)
    if not record.get("gwbridge_before"):
        wait_until(lambda: not _network_exists(GWBRIDGE, run)
                   or run(["docker", "network", "rm", GWBRIDGE], timeout=30).returncode == 0, timeout=10, pause=1)
    marker.unlink(missing_ok=True)


def sweep_swarm(log: Log = print, run: Callable = proc.run, alive: Callable[[int], bool] = identity.pid_alive) -> list[str]:
    """Remove the stacks of stackgate runs that died (and restore the swarm state a dead run changed)."""
    swept = []
    if swarm_state(run) == "active":
        res = run(["docker", "stack", "ls", "--format", "{{.Name}}"], timeout=30)
        for name in res.stdout.split():
            pid = identity.owner_pid(name)
            if pid is not None and not alive(pid):
                remove_stack(name, run)
                swept.append(name)
    for marker in sorted(STATE_DIR.glob("init-*.json")) if STATE_DIR.is_dir() else []:
        pid = json.loads(marker.read_text()).get("pid")
        if pid and not alive(int(pid)):
            restore(marker, run)
            log(f"swarm: left the swarm a dead run (pid {pid}) had initialised")
    if swept:
        log(f"swarm: removed the stacks of dead runs: {', '.join(swept)}")
    return swept


def remove_stack(name: str, run: Callable = proc.run, wait_s: float = 90) -> None:
    """`docker stack rm`, then wait until its containers are gone and remove its networks and volumes."""
    run(["docker", "stack", "rm", name], timeout=60)
    label = f"label={NAMESPACE}={name}"
    wait_until(lambda: not run(["docker", "ps", "-aq", "--filter", label], timeout=30).stdout.split(), wait_s, pause=1)
    leftovers = run(["docker", "ps", "-aq", "--filter", label], timeout=30).stdout.split()
    if leftovers:
        run(["docker", "rm", "-f", "-v", *leftovers], timeout=120)
    def networks_gone() -> bool:  # the engine releases a network a moment after its last task
        nets = run(["docker", "network", "ls", "-q", "--filter", label], timeout=30).stdout.split()
        return not nets or run(["docker", "network", "rm", *nets], timeout=60).returncode == 0

    wait_until(networks_gone, timeout=20, pause=1)
    vols = set(run(["docker", "volume", "ls", "-q", "--filter", label], timeout=30).stdout.split())
    vols |= {v for v in run(["docker", "volume", "ls", "-q"], timeout=30).stdout.split() if v.startswith(f"{name}_")}
    if vols:
        run(["docker", "volume", "rm", "-f", *sorted(vols)], timeout=120)


# --- the stack handle ------------------------------------------------------------------------------------------

def slot_of(container: Container) -> int:
    """The task slot of a replica's container (`stack_service.SLOT.taskid`)."""
    m = re.search(r"\.(\d+)\.[a-z0-9]+$", container.labels.get(TASK_LABEL, ""))
    return int(m.group(1)) if m else 0


@dataclass
class SwarmStack(Stack):
    """A deployed stack: each service's replicas are its task containers on this node."""

    engine = "swarm"
    publishes_ollamas = False  # a replicated Ollama publishes no host port (docker-stack-scaled.yml)
    dropped: dict[str, list[str]] = field(default_factory=dict)  # service -> compose keys swarm does not take
    depends: dict[str, list[str]] = field(default_factory=dict)  # service -> its compose depends_on
    rendered: Path | None = None

    def service_of(self, container: Container) -> str:
        return container.labels.get(SERVICE_LABEL, "").removeprefix(f"{self.project}_")

    def tasks(self, running_only: bool = True) -> list[Container]:
        """The stack's task containers (running ones, or all that the engine keeps), by service and slot."""
        found = self.client.containers.list(all=not running_only, filters={"label": f"{NAMESPACE}={self.project}"},
                                            ignore_removed=True)
        return sorted(found, key=lambda c: (self.service_of(c), slot_of(c), c.attrs.get("Created", "")))

    def replicas(self, service: str) -> dict[int, Container]:
        """slot -> the running container of each replica of a service."""
        return {slot_of(c): c for c in self.tasks() if self.service_of(c) == service}

    def containers(self) -> dict[str, Container]:
        """service -> one running container of it (its lowest slot); a service with none running: its newest."""
        out: dict[str, Container] = {}
        for c in self.tasks(running_only=False):
            name = self.service_of(c)
            running = c.attrs.get("State", {}).get("Status") == "running"
            held = out.get(name)
            if held is None or (running and held.attrs.get("State", {}).get("Status") != "running"):
                out[name] = c
        return out

    def networks(self) -> dict[str, str]:
        found = self.client.networks.list(filters={"label": f"{NAMESPACE}={self.project}"})
        return {n.name.removeprefix(f"{self.project}_"): n.name for n in found}

    def service_containers(self) -> list[tuple[str, Container]]:
        """(service, container) for every task container the engine keeps (replaced tasks included)."""
        return [(self.service_of(c), c) for c in self.tasks(running_only=False)]

    def ip_map(self) -> dict[str, str]:
        """Every running replica's IP on the stack network -> its service (a replaced task's is not reused)."""
        out = {}
        for c in self.tasks():
            for net, cfg in (c.attrs.get("NetworkSettings", {}).get("Networks") or {}).items():
                if net.endswith(self.manifest.network) and cfg.get("IPAddress"):
                    out[cfg["IPAddress"]] = self.service_of(c)
        return out

    def replica_logs(self, service: str, since: float | None = None) -> dict[int, list[str]]:
        """slot -> the lines of that running replica since an epoch time."""
        return {slot: container_logs(c, since) for slot, c in self.replicas(service).items()}

    def depends_on(self, service: str) -> list[str]:
        """What the compose files make a service wait for (swarm itself has no start order)."""
        return list(self.depends.get(service, []))

    def pause(self, services: list[str]) -> list[str]:
        """Freeze every running replica of these services; return the services frozen."""
        frozen = []
        for name in services:
            replicas = self.replicas(name)
            for c in replicas.values():
                c.pause()
            if replicas:
                frozen.append(name)
        return frozen

    def unpause(self, services: list[str]) -> None:
        errors = []
        for name in services:
            for c in self.tasks(running_only=False):
                if self.service_of(c) == name and c.attrs.get("State", {}).get("Paused"):
                    try:
                        c.unpause()
                    except docker.errors.APIError as exc:
                        errors.append(f"{name}: {exc}")
        if errors:
            raise StackStartError("could not unpause " + "; ".join(errors))

    def desired(self) -> dict[str, tuple[int, int]]:
        """service -> (running replicas, desired replicas), as `docker service ls` reports them."""
        res = proc.run(["docker", "service", "ls", "--filter", f"label={NAMESPACE}={self.project}",
                        "--format", "{{.Name}}\t{{.Replicas}}"], timeout=30)
        out = {}
        for line in res.stdout.splitlines():
            name, _, reps = line.partition("\t")
            m = re.match(r"(\d+)/(\d+)", reps.strip())
            if m:
                out[name.removeprefix(f"{self.project}_")] = (int(m.group(1)), int(m.group(2)))
        return out

    def healthy_replicas(self, service: str) -> int:
        """Running replicas of a service whose healthcheck passes (or that have none)."""
        n = 0
        for c in self.replicas(service).values():
            health = (c.attrs.get("State", {}).get("Health") or {}).get("Status")
            n += health in (None, "healthy")
        return n

    def describe(self) -> list[tuple[str, str]]:
        replicas = ", ".join(f"{o} {n}" for o, n in self.manifest.scale.replicas.items()) if self.manifest.scale else ""
        return [("Engine", f"Docker Swarm, stack {self.project} ({self.rendered}); replicas {replicas}"),
                ("Compose keys swarm does not take (dropped)",
                 "; ".join(f"{s}: {', '.join(k)}" for s, k in sorted(self.dropped.items())) or "none")]

    def converged(self) -> dict[str, str]:
        """service -> what it still lacks ('1/2 replicas healthy'); empty when every service is complete."""
        lacking = {}
        for name, (_, want) in self.desired().items():
            have = self.healthy_replicas(name)
            if have < want:
                lacking[name] = f"{have}/{want} replicas healthy"
        return lacking


# --- the lifecycle ----------------------------------------------------------------------------------------------

class SwarmRun:
    """One scaled stack's lifecycle on swarm: `start()` (safe from a background thread) and `stop()`."""

    def __init__(self, manifest: Manifest, profiles: list[str], keep: bool = False, project: str | None = None,
                 log: Log = print, workdir: Path | None = None) -> None:
        self.manifest, self.profiles, self.keep, self.log = manifest, profiles, keep, log
        self.project = project or identity.new_project_name()
        self.workdir = workdir or reports_dir()
        self.engine = SwarmEngine()
        self.stack: SwarmStack | None = None
        self._stopping = threading.Event()
        self._deploying = threading.Lock()
        self._stopped = False
        self.deployed = False

    def start(self) -> SwarmStack:
        preflight(self.manifest, [], skip_ports_of=self.manifest.ollamas,  # replicated Ollamas publish no port
                  hint="stop what holds them")
        rendered = render(self.manifest, self.profiles)
        doc = rendered.doc
        self.workdir.mkdir(parents=True, exist_ok=True)
        path = self.workdir / f"{self.project}.stack.yml"
        path.write_text("# rendered by stackgate (--stack-engine swarm); deploy: docker stack deploy "
                        "--resolve-image never -c THIS NAME\n" + yaml.safe_dump(doc, sort_keys=False))
        check_stack_file(path)
        sweep_swarm(self.log)
        bound = self.manifest.startup_timeout_s(self.profiles, first_run=True)
        stack = self.stack = SwarmStack(self.manifest, "scaled", self.project, [path], first_run=True, bound_s=bound,
                                        dropped=rendered.dropped, depends=rendered.depends, rendered=path)
        with self._deploying:
            if self._stopping.is_set():
                raise StackStartError("stopped before the stack was deployed")
            self.engine.enter(self.log)
            res = proc.run(["docker", "stack", "deploy", "--resolve-image", "never", "--detach=true", "-c", str(path),
                            self.project], timeout=120)
            self.deployed = True
        if res.returncode != 0:
            raise StackStartError(f"docker stack deploy failed: {' '.join(res.stderr.split())[:300]}")
        self.log(f"swarm: deployed {self.project} ({len(doc['services'])} services); waiting for every replica "
                 f"(bound {bound:.0f} s)")
        stack.started_at = time.time()
        lacking: dict[str, str] = {"(all)": "not yet listed"}
        last_print = [0.0]

        def converged() -> bool:
            nonlocal lacking
            desired = stack.desired()
            lacking = stack.converged() if desired else lacking
            now = time.time()
            for name in desired:
                if name not in lacking and name not in stack.healthy_after_s:
                    stack.healthy_after_s[name] = round(now - stack.started_at, 1)
            if lacking and now - last_print[0] >= 5:
                last_print[0] = now
                self.log(f"swarm: {now - stack.started_at:.0f}s, waiting for {len(lacking)}: "
                         + ", ".join(f"{k} ({v})" for k, v in sorted(lacking.items())))
            return not lacking

        wait_until(converged, bound, pause=1, stop=self._stopping.is_set)
        if lacking:
            raise StackStartError(f"stack {self.project} did not converge within {bound:.0f} s: "
                                  + "; ".join(f"{k}: {v}" for k, v in sorted(lacking.items())), lacking)
        stack.ready_at = time.time()
        self.log(f"swarm: every replica healthy after {stack.ready_at - stack.started_at:.1f}s")
        return stack

    def stop(self) -> None:
        """Remove the stack (services, networks, per-slot volumes) and restore the engine's swarm state, once."""
        if self._stopped:
            return
        self._stopped = True
        self._stopping.set()
        with self._deploying:  # a deploy in flight finishes first, so nothing is created after the removal
            if self.keep and self.deployed:
                if self.engine.marker is not None:  # the kept stack is no dead run's leftover for the next sweep
                    self.engine.marker.unlink(missing_ok=True)
                self.log(f"swarm: left running as stack {self.project} (--keep-stack); `docker stack rm "
                         f"{self.project}` removes it" + ("; `docker swarm leave --force` leaves the swarm this run "
                                                          "initialised" if self.engine.initialised else ""))
                return
            if self.deployed:
                remove_stack(self.project)
                self.log(f"swarm: stack {self.project} removed (services, networks, volumes)")
            self.engine.leave(self.log)
