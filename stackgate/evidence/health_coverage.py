"""Health coverage: each store and Ollama paused on its own while every app's own healthcheck runs, so a matrix
says which dependency each app's health covers (fails while it is gone) and which it ignores."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field

from stackgate.core.wait import wait_until
from stackgate.engines.base import Stack

PAUSED_KINDS = ("store", "ollama")


@dataclass
class Cell:
    """One app's healthcheck while one dependency was paused."""

    code: int
    output: str
    required: bool   # the manifest (or its depends_on) says the app's health must cover this dependency
    was_healthy: bool = True  # its healthcheck passed just before the pause (else a failure proves nothing)

    @property
    def covered(self) -> bool:
        return self.was_healthy and self.code != 0


@dataclass
class Coverage:
    """app -> dependency -> Cell, what each app must cover, and the apps that did not pass again after a thaw."""

    cells: dict[str, dict[str, Cell]] = field(default_factory=dict)
    must_cover: dict[str, list[str]] = field(default_factory=dict)
    not_paused: dict[str, str] = field(default_factory=dict)       # dependency -> why it was not paused
    not_thawed: dict[str, str] = field(default_factory=dict)       # app -> its last healthcheck output

    def ignored(self, app: str) -> list[str]:
        """The dependencies app must cover whose pause its healthcheck did not notice."""
        return [d for d in self.must_cover.get(app, []) if d in self.cells.get(app, {})
                and not self.cells[app][d].covered]


def must_cover(stack: Stack, app: str) -> list[str]:
    """What an app's health must cover: the manifest's `health_covers`, else every store and Ollama in its
    depends_on."""
    spec = stack.manifest.services[app]
    if spec.health_covers is not None:
        return list(spec.health_covers)
    return [d for d in stack.depends_on(app) if stack.manifest.services.get(d) is not None
            and stack.manifest.services[d].kind in PAUSED_KINDS]


def measure(stack: Stack, apps: list[str], thaw_timeout: float = 60,
            window: Callable[[str], AbstractContextManager] = lambda dep: nullcontext()) -> Coverage:
    """Pause each store and Ollama of the manifest on its own (inside window(dep): its log window), run every
    app's healthcheck meanwhile (in parallel), thaw it and wait until every app's healthcheck passes again before
    the next; an app that was not healthy before a pause cannot show that it covers what was paused."""
    out = Coverage(must_cover={a: must_cover(stack, a) for a in apps})
    deps = [s.name for s in stack.manifest.services.values() if s.kind in PAUSED_KINDS]
    with ThreadPoolExecutor(max_workers=max(1, len(apps))) as pool:
        healthy = {a: last is None for a, last in zip(apps, pool.map(lambda a: _passes_again(stack, a, thaw_timeout),
                                                                     apps))}
        out.not_thawed.update({a: "not healthy before the first pause" for a, ok in healthy.items() if not ok})
        for dep in deps:
            with window(dep):
                frozen = stack.pause([dep])
                if not frozen:
                    out.not_paused[dep] = "not running"
                    continue
                try:
                    results = list(pool.map(stack.run_healthcheck, apps))
                finally:
                    stack.unpause(frozen)
                for app, (code, text) in zip(apps, results):
                    out.cells.setdefault(app, {})[dep] = Cell(code, text[:200], dep in out.must_cover[app],
                                                              healthy[app])
                for app, last in zip(apps, pool.map(lambda a: _passes_again(stack, a, thaw_timeout), apps)):
                    healthy[app] = last is None
                    if last is not None:
                        out.not_thawed[app] = f"after {dep}'s thaw: {last}"
    return out


def _passes_again(stack: Stack, app: str, timeout: float) -> str | None:
    """None once app's healthcheck passes again (within timeout), else its last output."""
    last = [""]

    def passes() -> bool:
        code, text = stack.run_healthcheck(app)
        last[0] = f"exit {code}: {text[:200]}"
        return code == 0
    return None if wait_until(passes, timeout=timeout, pause=1) is not None else last[0]
