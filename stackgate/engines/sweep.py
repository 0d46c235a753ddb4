"""Find and remove the Docker resources of stackgate's compose projects (containers, networks, volumes): every
one (`make clean`), or those of runs whose owner no longer runs here (see `identity`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from stackgate.core import proc
from stackgate.engines import reaper

from .identity import PREFIX, owner_pid, pid_alive
from .reaper_agent import kill_compose_processes

PROJECT_LABEL = "com.docker.compose.project"
KINDS = ("container", "network", "volume")


@dataclass(frozen=True)
class Resource:
    """One Docker object of a compose project."""

    kind: str
    id: str
    project: str


def list_resources(run: Callable = proc.run) -> list[Resource]:
    """Every container, network and volume labelled with a stackgate-* compose project."""
    found: list[Resource] = []
    fmt = "{{.ID}}\t{{.Label \"" + PROJECT_LABEL + "\"}}"
    for kind in KINDS:
        argv = ["docker", kind, "ls", "--filter", f"label={PROJECT_LABEL}", "--format", fmt]
        if kind == "container":
            argv = ["docker", "ps", "-a", "--filter", f"label={PROJECT_LABEL}", "--format", fmt]
        elif kind == "volume":
            argv[-1] = "{{.Name}}\t{{.Label \"" + PROJECT_LABEL + "\"}}"
        res = run(argv, timeout=60)
        if res.returncode != 0:
            continue
        for line in res.stdout.splitlines():
            ident, _, project = line.partition("\t")
            if project.startswith(PREFIX):
                found.append(Resource(kind, ident.strip(), project.strip()))
    return found


def select(resources: list[Resource], only_orphans: bool,
           alive: Callable[[int], bool] = pid_alive) -> list[Resource]:
    """All resources, or (only_orphans) those whose owning pid no longer runs."""
    if not only_orphans:
        return list(resources)
    out = []
    for r in resources:
        pid = owner_pid(r.project)
        if pid is not None and not alive(pid):
            out.append(r)
    return out


def remove(resources: list[Resource], run: Callable = proc.run) -> None:
    """Remove resources: containers first (forced), then networks, then volumes."""
    for kind in KINDS:
        ids = [r.id for r in resources if r.kind == kind]
        if not ids:
            continue
        argv = {"container": ["docker", "rm", "-f", "-v"], "network": ["docker", "network", "rm"],
                "volume": ["docker", "volume", "rm", "-f"]}[kind]
        run([*argv, *ids], timeout=180)


def sweep(only_orphans: bool = True, log: Callable[[str], None] = print, run: Callable = proc.run,
          alive: Callable[[int], bool] = pid_alive) -> list[str]:
    """Remove stackgate leftovers (or everything of stackgate's); return the projects swept."""
    chosen = select(list_resources(run), only_orphans, alive)
    projects = sorted({r.project for r in chosen})
    if projects and kill_compose_processes(set(projects)):
        log(f"sweep: stopped the compose commands still running for {', '.join(projects)}")
        chosen = select(list_resources(run), only_orphans, alive)  # they may have created more
    if chosen:
        counts = {k: sum(r.kind == k for r in chosen) for k in KINDS}
        log(f"sweep: removing {counts['container']} containers, {counts['network']} networks, "
            f"{counts['volume']} volumes of {', '.join(projects)}")
        remove(chosen, run)
    # the reapers of dead runs, and the anonymous volumes they recorded
    for project in reaper.orphans(run, alive, only_dead=only_orphans):
        reaper.stop(project, run)
        projects = sorted({*projects, project})
    return projects
