"""What was tested, for the report's banner: the stack's commit, profile, engine, backends, GPU, timings."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

from stackgate.verdict.report import format_utc

from .state import SessionState


def stack_commit(stack_dir: Path) -> str:
    """The git commit of the stack's files, '(modified)' when they differ from it, or why it is unknown."""
    try:
        head = subprocess.run(["git", "-C", str(stack_dir), "log", "-1", "--format=%h", "--", "."],
                              capture_output=True, text=True, timeout=10)
        dirty = subprocess.run(["git", "-C", str(stack_dir), "status", "--porcelain", "--", "."],
                               capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"unknown ({type(exc).__name__})"
    if head.returncode != 0 or not head.stdout.strip():
        return "not a git checkout"
    return head.stdout.strip() + (" (modified)" if dirty.stdout.strip() else " (clean)")


def tested_rows(state: SessionState) -> list[tuple[str, str]]:
    """(label, value) rows: what was tested and how the start went."""
    m = state.manifest
    start = state.start
    stack = start.stack if start else None
    rows = [("stack/ commit", stack_commit(m.project_dir)), ("Manifest", str(m.path)),
            ("Profile", "+".join(start.profiles) if start else "(no stack started)")]
    if state.facts is not None:
        rows.append(("Facts", state.facts.describe()))
    if start and start.bound_s is not None:
        rows.append(("Start-up bound", f"{start.bound_s:.0f} s, the manifest's "
                     + ("first-run budget (the model volumes were empty)" if start.first_run
                        else "later-start budget (the model volumes already existed)")))
    if start and start.error:
        rows.append(("Stack start", "FAILED: " + start.error.splitlines()[0][:200]))
    if stack is not None:
        rows += stack.describe()
        rows.append(("Compose project", stack.project + (" (reused)" if stack.reused else "")))
        rows.append(("Healthy after", "n/a: reused, started outside this session" if stack.reused
                     else f"{(stack.ready_at or time.time()) - stack.started_at:.1f} s"))
        for name in m.ollamas:
            rows.append((f"{name} backend", start.backends.get(name, "not read")))
        rows.append(("Stand-ins (not the real servers)",
                     ", ".join(f"{svc} (for {what})" for svc, what in start.standins.items())
                     or "none: every backend is real"))
        rows.append(("GPU", "yes" if "gpu" in start.profiles else "no (no nvidia runtime or CDI devices)"))
    if state.log_windows:
        windows = state.log_windows
        spans = sorted({round(end - begin) for begin, end in windows.values()})
        rows.append(("Logs watched", f"{spans[0]}-{spans[-1]} s per service, from healthy to "
                                     f"{format_utc(max(e for _, e in windows.values()))} (table below)"))
    if state.rollback is not None:
        rows.append(("Rollback steps", "; ".join(f"{st.name}: {st.seconds:.1f} s{'' if st.ok else ' FAILED'}"
                                                 for st in state.rollback.steps)))
    return rows
