"""Subprocess calls with a timeout, a captured result and an error that names the command."""

from __future__ import annotations

import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path


def run(
    argv: Sequence[str],
    *,
    timeout: float = 120,
    check: bool = False,
    env: Mapping[str, str] | None = None,
    input: str | None = None,
    cwd: str | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run argv, capture text output; never hang longer than timeout; missing binary -> rc 127."""
    try:
        res = subprocess.run(
            list(argv),
            capture_output=True,
            text=True,
            timeout=timeout,
            env=dict(env) if env is not None else None,
            input=input,
            cwd=cwd,
        )
    except FileNotFoundError as exc:
        res = subprocess.CompletedProcess(list(argv), 127, "", f"{argv[0]}: not found ({exc})")
    except subprocess.TimeoutExpired as exc:
        out = exc.stdout.decode() if isinstance(exc.stdout, bytes) else (exc.stdout or "")
        res = subprocess.CompletedProcess(list(argv), 124, out, f"timed out after {timeout:.0f}s")
    if check and res.returncode != 0:
        last = (res.stderr or res.stdout).strip().splitlines()[-1:] or [""]
        raise subprocess.CalledProcessError(res.returncode, list(argv), res.stdout, last[0])
    return res


def compose_argv(project_dir: str | Path, files: Sequence[str | Path], project: str | None = None) -> list[str]:
    """The one `docker compose` argv prefix: `--project-directory DIR -f FILE … [-p PROJECT]`."""
    argv = ["docker", "compose", "--project-directory", str(project_dir)]
    for f in files:
        argv += ["-f", str(f)]
    return argv + (["-p", project] if project else [])
