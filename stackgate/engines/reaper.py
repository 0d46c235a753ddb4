"""The host side of the reaper: one container per run that removes the run's compose project if the run is killed.

`start` right after the project name is chosen, `stop` after the normal teardown; `orphans` for sweep/clean.
The reaper container carries `org.stackgate.reaper=<project>`, never the compose project label.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from stackgate.core import proc
from stackgate.core.errors import StackStartError
from stackgate.engines import reaper_agent
from stackgate.machine.airgap import RUNTIME

from . import identity

RECORDS = Path(os.environ.get("STACKGATE_STATE", "/tmp/stackgate-state"))
AGENT = Path(__file__).resolve().with_name("reaper_agent.py")
LABEL = "org.stackgate.reaper"
SOCKET = "/var/run/docker.sock"


def container_name(project: str) -> str:
    """The reaper container's name for a project."""
    return f"stackgate-reaper-{project}"


def record_file(project: str) -> Path:
    """Where the reaper records the project's anonymous volumes."""
    return RECORDS / f"{project}.volumes"


def start(project: str, pid: int | None = None, image: str = RUNTIME, run: Callable = proc.run) -> str:
    """Start the reaper container for a project owned by pid (default: this process); return its id."""
    pid = pid or os.getpid()
    started = reaper_agent.start_time(pid)
    if started is None:
        raise StackStartError(f"reaper: owner pid {pid} does not run here")
    RECORDS.mkdir(parents=True, exist_ok=True)
    record_file(project).touch()
    argv = ["docker", "run", "-d", "--rm", "--pull", "never", "--pid", "host", "--network", "none",
            "-v", f"{SOCKET}:/var/run/docker.sock", "-v", f"{AGENT}:/reaper_agent.py:ro", "-v", f"{RECORDS}:{RECORDS}",
            "--label", f"{LABEL}={project}", "--name", container_name(project),
            image, "/usr/bin/python3", "/reaper_agent.py", project, str(pid), started, str(record_file(project))]
    res = run(argv, timeout=60)
    if res.returncode != 0:
        raise StackStartError(f"reaper: could not start its container from {image}: "
                              f"{(res.stderr or res.stdout).strip()[-300:]}")
    return res.stdout.strip()


def recorded_volumes(project: str) -> list[str]:
    """The volume names the project's reaper recorded."""
    return reaper_agent.recorded(record_file(project))


def stop(project: str, run: Callable = proc.run) -> None:
    """The normal end of a run (after `down -v`): remove the reaper, the recorded volumes left, the record file."""
    run(["docker", "rm", "-f", container_name(project)], timeout=60)
    names = recorded_volumes(project)
    if names:
        run(["docker", "volume", "rm", "-f", *names], timeout=120)  # -f: names already gone are no error
    record_file(project).unlink(missing_ok=True)


def orphans(run: Callable = proc.run, alive: Callable[[int], bool] = identity.pid_alive, only_dead: bool = True) -> list[str]:
    """Projects with a record file or a reaper container whose owner pid is dead (every such project: only_dead=False)."""
    projects = {p.name.removesuffix(".volumes") for p in RECORDS.glob(f"{identity.PREFIX}*.volumes")}
    res = run(["docker", "ps", "-a", "--filter", f"label={LABEL}", "--format", '{{.Label "' + LABEL + '"}}'], timeout=60)
    if res.returncode == 0:
        projects |= {line.strip() for line in res.stdout.splitlines() if line.strip().startswith(identity.PREFIX)}
    owners = {p: identity.owner_pid(p) for p in projects}
    return sorted(p for p, pid in owners.items() if pid is not None and not (only_dead and alive(pid)))


def release(project: str, run: Callable = proc.run) -> None:
    """Let a kept stack outlive this process: remove its reaper, keep its record for `make clean`."""
    run(["docker", "rm", "-f", container_name(project)], timeout=60)
