"""A run's project identity: stackgate projects are named `stackgate-<pid>-<token>`, so the pid that owns one can
be read back and a project whose owner no longer runs here is a leftover."""

from __future__ import annotations

import os
import secrets

PREFIX = "stackgate-"


def new_project_name(pid: int | None = None) -> str:
    """A unique compose project name for this run, carrying the owning pid."""
    return f"{PREFIX}{pid or os.getpid()}-{secrets.token_hex(3)}"


def owner_pid(project: str) -> int | None:
    """The pid encoded in a stackgate project name, or None for other names."""
    if not project.startswith(PREFIX):
        return None
    head = project[len(PREFIX):].split("-", 1)[0]
    return int(head) if head.isdigit() else None


def pid_alive(pid: int) -> bool:
    """True when a process with this pid exists here."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
