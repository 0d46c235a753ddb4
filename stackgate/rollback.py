"""The seed's rollback plan, as steps on one compose project: `down` separated (volumes kept), `up`
simple, and forward again. Each step is timed; the data volumes are shared by name."""

from __future__ import annotations

import subprocess
import time
from dataclasses import dataclass, field

from .errors import StackStartError
from .stack import Stack, StackCompose, failure_summary


@dataclass
class Step:
    name: str
    seconds: float
    ok: bool
    detail: str = ""


def error_lines(stack: Stack, since: float | None, until: float | None = None) -> dict[str, list[str]]:
    """service -> the error lines (manifest pattern and allowlist) its container printed in the window."""
    out = {}
    for name in stack.containers():
        bad = [ln for ln in stack.logs(name, since=since, until=until) if stack.manifest.is_error_line(ln)]
        if bad:
            out[name] = bad
    return out


@dataclass
class Rollback:
    """Moves a running stack between layouts, keeping its project name and data volumes."""

    stack: Stack
    profiles: list[str]
    steps: list[Step] = field(default_factory=list)
    errors: dict[str, dict[str, list[str]]] = field(default_factory=dict)  # layout -> service -> error lines


    def _compose(self, layout: str) -> StackCompose:
        return StackCompose.for_layout(self.stack.manifest, layout, self.profiles, self.stack.project)

    def _timed(self, name: str, fn) -> Step:  # noqa: ANN001
        t0 = time.monotonic()
        try:
            fn()
            step = Step(name, round(time.monotonic() - t0, 1), True)
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as exc:
            step = Step(name, round(time.monotonic() - t0, 1), False, failure_summary(self.stack, exc))
        self.steps.append(step)
        if not step.ok:
            raise StackStartError(f"rollback step '{name}' failed: {step.detail}")
        return step

    def switch(self, to_layout: str) -> None:
        """The seed's commands: `down` the current layout (volumes kept, no --remove-orphans), then `up -d`
        the other one (waiting for healthy); the current layout's error lines are captured before it goes."""
        self.errors[self.stack.layout] = error_lines(self.stack, since=self.stack.ready_at)
        current = self._compose(self.stack.layout)
        self._timed(f"down {self.stack.layout} (volumes kept)", current.down)
        target = self._compose(to_layout)
        self._timed(f"up -d {to_layout}", target.start)
        self.stack.layout, self.stack.compose = to_layout, target
        self.stack.files = self.stack.manifest.compose_files(to_layout, self.profiles)
        self.stack.ready_at = time.time()
