"""The session's state: one typed object under one StashKey, written by the plugin's modules and read by the
report. The suite reaches it through the `gate_state` fixture, never through the stash."""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import Future
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

import pytest

from stackgate.engines.base import Run, Stack
from stackgate.evidence.facts import Draw
from stackgate.manifest import Gate, Manifest
from stackgate.verdict.metrics import Result


@dataclass
class EarlyStart:
    """The stack (and the browser) started in the background at collection's end."""

    run: Run
    future: Future
    profiles: list[str]
    started: float = field(default_factory=time.time)
    browser: Future | None = None


@dataclass
class StartRecord:
    """How the session's stack start went: the stack, or the error and the services that caused it."""

    profiles: list[str]
    stack: Stack | None = None
    error: str | None = None
    causes: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0
    bound_s: float | None = None
    first_run: bool | None = None
    backends: dict[str, str] = field(default_factory=dict)    # Ollama -> what answers (real / stand-in)
    images: dict[str, str] = field(default_factory=dict)      # service -> image ref (id)
    standins: dict[str, str] = field(default_factory=dict)    # service -> what it stands in for
    own_start_s: dict[str, float] = field(default_factory=dict)  # service -> healthy after its dependencies were


class Recovery(NamedTuple):
    """One row of the report's recovery table (the suite appends it as a plain tuple)."""

    what: str
    service: str
    seconds: float | None   # until every dependent worked again; None: it did not
    detail: str = ""


class MemoryBudget(NamedTuple):
    """One row of the report's memory table: what an Ollama may hold at once against its limit."""

    need_gib: float
    limit_gib: float | None
    worst: list[str]          # the models of the worst case
    max_loaded: str | None    # OLLAMA_MAX_LOADED_MODELS as set
    models: int               # how many models it holds


@dataclass
class Verdict:
    """The gate's verdict, computed once at the session's end."""

    gate: str                # the gate's name, or 'no'
    verdict: str             # PASSED / FAILED / INCOMPLETE, or INFORMATIVE without a gate
    problems: list[str]
    statuses: list           # verdict.metrics.MetricStatus, one per metric


@dataclass
class SessionState:
    """Everything the session learns that the verdict and the report need."""

    manifest: Manifest
    gate: Gate | None
    session_started: float = field(default_factory=time.time)
    finished: float | None = None
    expected: dict[str, str] = field(default_factory=dict)          # nodeid -> metric it must report under
    results: dict[str, list[Result]] = field(default_factory=dict)  # metric -> its tests' results
    unmetered: list[str] = field(default_factory=list)              # failed tests outside every metric
    early: EarlyStart | None = None
    start: StartRecord | None = None
    log_windows: dict[str, tuple[float, float]] = field(default_factory=dict)  # service -> (from, to) scanned
    rollback: Any = None                                            # engines.rollback.Rollback, once it ran
    recoveries: list[tuple] = field(default_factory=list)         # Recovery rows
    disruptions: list = field(default_factory=list)                 # evidence.disruptions.Disruption, in order
    disruption_scans: dict[str, Any] = field(default_factory=dict)  # service -> evidence.disruptions.Scan
    health_coverage: Any = None                                     # evidence.health_coverage.Coverage, once measured
    memory_budgets: dict[str, tuple] = field(default_factory=dict)  # 'profile-layout ollama' -> MemoryBudget row
    isolation: list[dict] = field(default_factory=list)             # one measurement per layout
    scale: dict[str, list[dict]] = field(default_factory=lambda: {"bursts": [], "losses": []})
    security_findings: dict[tuple[str, str, str], set[str]] = field(default_factory=dict)  # (rule, sev, why) -> where
    verdict: Verdict | None = None
    outcomes: dict[str, dict] = field(default_factory=dict)         # nodeid -> {outcome, seconds}: the history's
    steps: dict[str, tuple[float, str]] = field(default_factory=dict)  # 'rt/kind/step' -> (seconds, service)
    evidence_started: float = 0.0                                   # when the round-trip chains were started
    last_check_end: float = 0.0                                     # when the last non-disruptive test ended
    routing_via: dict[str, str] = field(default_factory=dict)       # app -> what its routing was read from
    spans: list[tuple[str, float, float]] = field(default_factory=list)  # (what, start, end): where the time went
    comparison: Any = None                                          # verdict.history.Comparison with the baseline
    history_error: str = ""                                         # why there is no comparison (a bad --baseline)
    history_path: Path | None = None                                # this run's record
    history_runs: list = field(default_factory=list)                # the last kept runs of this kind, for trends
    facts: Draw | None = None                                       # this run's facts and the seed they came from

    def span(self, name: str, start: float, end: float | None = None) -> None:
        """A piece of the session's time (epoch seconds), for the critical path `make bench` draws."""
        self.spans.append((name, start, time.time() if end is None else end))

    @contextmanager
    def timing(self, name: str) -> Iterator[None]:
        """Record the block's time as a span (whatever way it ends)."""
        start = time.time()
        try:
            yield
        finally:
            self.span(name, start)

    def record(self, metric: str, result: Result) -> None:
        """A test's result under its metric."""
        self.results.setdefault(metric, []).append(result)


STATE = pytest.StashKey[SessionState]()


def state_of(config: pytest.Config) -> SessionState:
    """The session's state (made at configure)."""
    return config.stash[STATE]
