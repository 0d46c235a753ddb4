"""The seed's rollback plan, as steps on one compose project: `down` the deployment (volumes kept), `up`
the rollback layout (the simple stack, or another manifest's deployment), and forward again. Each step is
timed; the data volumes are shared by name."""

from __future__ import annotations

import subprocess
import time
from dataclasses import dataclass, field

from stackgate.core.errors import StackStartError
from stackgate.manifest import RollbackTarget

from .base import Stack
from .compose import ComposeStack, StackCompose, failure_summary, volume_exists


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

    stack: ComposeStack
    profiles: list[str]
    steps: list[Step] = field(default_factory=list)
    errors: dict[str, dict[str, list[str]]] = field(default_factory=dict)  # layout -> service -> error lines
    needs: list = field(default_factory=list)  # evidence.kept_volumes.PullNeed of the layout rolled back to

    def __post_init__(self) -> None:
        self.home = RollbackTarget(self.stack.manifest, self.stack.layout)  # where `forward` goes back to
        self.at = self.home

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

    def switch(self, to: RollbackTarget, env: dict[str, str] | None = None) -> None:
        """The seed's commands: `down` the current layout (volumes kept, no --remove-orphans), then `up -d`
        the target (waiting for healthy; `env` for its files' interpolation, e.g. the registry switch); the current
        layout's error lines are captured before it goes. From then on the stack is judged by the target's manifest."""
        self.errors[self.at.label] = error_lines(self.stack, since=self.stack.ready_at)
        self._timed(f"down {self.at.label} (volumes kept)", self._compose(self.at).down)
        target = self._compose(to)
        target.env = dict(env or {})
        self._timed(f"up -d {to.label}" + (f" ({', '.join(f'{k}={v}' for k, v in target.env.items())})"
                                          if target.env else ""), target.start)
        self.stack.switch_layout(to.manifest, to.layout, target, to.compose_files(self.profiles))
        self.at = to

    def _compose(self, where: RollbackTarget) -> StackCompose:
        """The driver of where's layout, bounded by its first-run budget when one of its Ollamas' model volumes
        does not exist yet (e.g. the LLM Ollama's, when rolling back from the vLLM layout)."""
        first_run = not all(volume_exists(f"{self.stack.project}_{o.volume}") for o in where.manifest.ollamas.values())
        return StackCompose.for_layout(where.manifest, where.layout, self.profiles, self.stack.project, first_run)
