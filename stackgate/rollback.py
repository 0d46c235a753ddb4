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


@dataclass
class Rollback:
    """Moves a running stack between layouts, keeping its project name and data volumes."""

    stack: Stack
    profiles: list[str]
    steps: list[Step] = field(default_factory=list)

    def _compose(self, layout: str) -> StackCompose:
        m = self.stack.manifest
        return StackCompose(context=str(m.project_dir),
                            compose_file_name=[str(f) for f in m.compose_files(layout, self.profiles)],
                            project_name=self.stack.project, wait_timeout=m.startup_timeout_s,
                            command_timeout=m.startup_timeout_s + 60)

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
        """`down` the current layout keeping volumes, then `up --wait` the other one."""
        current = self._compose(self.stack.layout)
        self._timed(f"down {self.stack.layout} (volumes kept)",
                    lambda: current._run_command([*current.compose_command_property, "down", "--remove-orphans"]))
        target = self._compose(to_layout)
        self._timed(f"up {to_layout}", target.start)
        self.stack.layout, self.stack.compose = to_layout, target
        self.stack.files = self.stack.manifest.compose_files(to_layout, self.profiles)
        self.stack.ready_at = time.time()
