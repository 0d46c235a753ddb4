"""The reaper (cf. testcontainers' Ryuk): watches one stackgate run and removes its compose project when the run dies.

Runs inside a container (`--pid host`, the Docker socket mounted) with nothing but the standard library:
`python3 reaper_agent.py PROJECT OWNER_PID OWNER_START RECORD_FILE`. Every second it records the anonymous volumes
of the project's containers in RECORD_FILE; once the owner is gone (no /proc/PID, a zombie, or another start time:
a reused pid) it removes the project's containers, networks and volumes, pass after pass, until two passes in a
row find nothing (a `docker compose up` orphaned by the kill may still be creating containers), then exits.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import signal
import socket
import sys
import time
import urllib.parse
from collections.abc import Callable
from pathlib import Path

PROJECT_LABEL = "com.docker.compose.project"
SOCKET = "/var/run/docker.sock"
ANONYMOUS = re.compile(r"[0-9a-f]{64}")  # docker names an anonymous volume by 64 hex digits
Api = Callable[[str, str], tuple[int, object]]


class _UnixConnection(http.client.HTTPConnection):
    """HTTP over the Docker Engine's unix socket."""

    def __init__(self, socket_path: str, timeout: float = 30) -> None:
        super().__init__("localhost", timeout=timeout)
        self.socket_path = socket_path

    def connect(self) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(self.timeout)
        self.sock.connect(self.socket_path)


def api(method: str, path: str, socket_path: str = SOCKET) -> tuple[int, object]:
    """One Engine API call: (HTTP status, decoded JSON body or None); OSError when the engine does not answer."""
    conn = _UnixConnection(socket_path)
    try:
        conn.request(method, path)
        resp = conn.getresponse()
        body = resp.read()
    finally:
        conn.close()
    try:
        return resp.status, json.loads(body) if body else None
    except ValueError:
        return resp.status, None


def label_filter(project: str) -> str:
    """The URL-encoded `filters` query value that selects the project's objects."""
    return urllib.parse.quote(json.dumps({"label": [f"{PROJECT_LABEL}={project}"]}))


def start_time(pid: int, proc_dir: str = "/proc") -> str | None:
    """Field 22 of /proc/PID/stat (start time in clock ticks), or None when there is no such live process."""
    try:
        stat = Path(proc_dir, str(pid), "stat").read_text()
    except OSError:
        return None
    fields = stat.rpartition(")")[2].split()  # fields[0] is field 3 (state); comm may hold spaces or ')'
    if len(fields) < 20 or fields[0] in ("Z", "X"):  # a zombie is dead, only not yet waited for
        return None
    return fields[19]


def owner_alive(pid: int, started: str, proc_dir: str = "/proc") -> bool:
    """True while the owner runs: the pid exists, is no zombie, and started when the owner did."""
    return start_time(pid, proc_dir) == started


def recorded(record: Path) -> list[str]:
    """The volume names in a record file, in the order they were first seen."""
    try:
        lines = record.read_text().split()
    except OSError:
        return []
    return list(dict.fromkeys(lines))


def record_volumes(containers: list, record: Path) -> list[str]:
    """Append the anonymous volumes of these containers that the record file lacks; return the new names."""
    seen = set(recorded(record))
    new = [m["Name"] for c in containers for m in (c.get("Mounts") or [])
           if m.get("Type") == "volume" and ANONYMOUS.fullmatch(m.get("Name") or "") and m["Name"] not in seen]
    new = list(dict.fromkeys(new))
    if new:
        with record.open("a") as f:
            f.write("".join(f"{n}\n" for n in new))
    return new


def reap_pass(project: str, record: Path, call: Api = api, log: Callable[[str], None] = print) -> int:
    """Remove what is left of the project (containers, networks, volumes); return how many objects were found."""
    found = 0
    query = label_filter(project)
    _, containers = call("GET", f"/containers/json?all=1&filters={query}")
    containers = containers if isinstance(containers, list) else []
    record_volumes(containers, record)
    for c in containers:
        status, _ = call("DELETE", f"/containers/{c['Id']}?force=1&v=1")
        if status != 404:
            found += 1
            log(f"reaper: container {(c.get('Names') or [c['Id'][:12]])[0].lstrip('/')}: removed ({status})")
    _, networks = call("GET", f"/networks?filters={query}")
    for n in networks if isinstance(networks, list) else []:
        status, _ = call("DELETE", f"/networks/{n['Id']}")
        if status != 404:
            found += 1
            log(f"reaper: network {n.get('Name', n['Id'])}: removed ({status})")
    _, volumes = call("GET", f"/volumes?filters={query}")
    labelled = [v["Name"] for v in ((volumes or {}).get("Volumes") or [])] if isinstance(volumes, dict) else []
    for name in dict.fromkeys([*labelled, *recorded(record)]):
        status, _ = call("DELETE", f"/volumes/{urllib.parse.quote(name)}")  # no force: it turns 404 into 204
        if status != 404:  # 409: still in use by a container being removed: the next pass retries
            found += 1
            log(f"reaper: volume {name}: {'removed' if status < 300 else 'in use, retrying'} ({status})")
    return found


def kill_compose_processes(projects: set[str], proc_dir: str = "/proc") -> list[int]:
    """SIGKILL `docker compose` processes still working on these projects (their owner died mid-`up`)."""
    killed = []
    for entry in Path(proc_dir).iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        words = [a.decode(errors="replace") for a in argv]
        if any("compose" in w for w in words[:3]) and any(p in words for p in projects):
            try:
                os.kill(int(entry.name), signal.SIGKILL)
                killed.append(int(entry.name))
            except (ProcessLookupError, PermissionError):
                pass
    return killed


def reap(project: str, record: Path, call: Api = api, bound_s: float = 90, every_s: float = 2,
         log: Callable[[str], None] = print) -> bool:
    """Reap pass after pass until two in a row find nothing (then drop the record file), for at most bound_s."""
    end, quiet = time.monotonic() + bound_s, 0
    while time.monotonic() < end:
        try:
            quiet = 0 if reap_pass(project, record, call, log) else quiet + 1
        except OSError as exc:  # the engine is busy or restarting: count it as work left
            quiet = 0
            log(f"reaper: engine did not answer ({exc}); retrying")
        if quiet >= 2:
            record.unlink(missing_ok=True)
            log(f"reaper: {project} is gone")
            return True
        time.sleep(every_s)
    log(f"reaper: {project} not gone after {bound_s:.0f}s; `make clean` finishes it")
    return False


def main(argv: list[str] | None = None) -> int:
    """Watch the owner, record volumes, reap once the owner is gone."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("project")
    p.add_argument("pid", type=int)
    p.add_argument("start_time")
    p.add_argument("record", type=Path)
    args = p.parse_args(argv)
    socket_path = os.environ.get("DOCKER_SOCKET", SOCKET)

    def call(method: str, path: str) -> tuple[int, object]:
        return api(method, path, socket_path)

    if not owner_alive(args.pid, args.start_time):
        # the owner's pid is not visible from here (another pid namespace): reaping now would remove a live stack
        print(f"reaper: owner pid {args.pid} not visible from this container; not watching {args.project}", flush=True)
        return 2
    print(f"reaper: watching {args.project} for owner pid {args.pid}", flush=True)
    while owner_alive(args.pid, args.start_time):
        try:
            _, containers = call("GET", f"/containers/json?all=1&filters={label_filter(args.project)}")
            for name in record_volumes(containers if isinstance(containers, list) else [], args.record):
                print(f"reaper: recorded volume {name}", flush=True)
        except OSError as exc:
            print(f"reaper: engine did not answer ({exc})", flush=True)
        time.sleep(1)
    print(f"reaper: owner pid {args.pid} is gone; removing {args.project}", flush=True)
    for pid in kill_compose_processes({args.project}):  # an orphaned `docker compose up` would go on creating
        print(f"reaper: stopped compose process {pid}", flush=True)
    return 0 if reap(args.project, args.record, call, log=lambda s: print(s, flush=True)) else 1


if __name__ == "__main__":
    sys.exit(main())
