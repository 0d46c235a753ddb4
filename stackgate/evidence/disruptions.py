"""Disruptions and the logs written during them: each disruption the gate causes (a pause, a restart, a crash, a
burst, a rollback) keeps its own window, and every service's error lines in it are judged against what the manifest
declares that kind of disruption may make that service log (`logs.during`); anything else is unexpected."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from stackgate.engines.base import Stack
from stackgate.manifest import Manifest

KINDS = ("registry-outage", "store-restart", "ollama-pause", "crash", "dependency-pause", "burst", "rollback")
SETTLE_S = 5.0  # lines a disruption causes may be printed a moment after it ends (a retry, a reconnect)


@dataclass
class Disruption:
    """One disruption: its kind, what it disturbed, and when (epoch seconds; end None while it lasts)."""

    kind: str
    target: str
    start: float
    end: float | None = None
    suite: str = ""          # the suite that caused it (smoke's healthcheck proof is judged by smoke's log scan)

    @property
    def label(self) -> str:
        return f"{self.kind} of {self.target}"


@dataclass
class Scan:
    """A service's error lines in the disruptions' windows: the expected ones (with the declaration's why) and the
    rest."""

    expected: list[tuple[str, str, str]] = field(default_factory=list)     # disruption label, line, why
    unexpected: list[tuple[str, str]] = field(default_factory=list)        # disruption label, line


@contextmanager
def disrupting(log: list[Disruption], kind: str, target: str, suite: str = "") -> Iterator[Disruption]:
    """Record a disruption's window around the block (the block includes the wait until things work again)."""
    if kind not in KINDS:
        raise ValueError(f"disruption kind {kind!r} is not one of {', '.join(KINDS)}")
    d = Disruption(kind, target, time.time(), suite=suite)
    log.append(d)
    try:
        yield d
    finally:
        d.end = time.time()


def segments(since: float, until: float, disruptions: list[Disruption],
             settle_s: float = SETTLE_S) -> list[tuple[float, float, Disruption | None]]:
    """[since, until] cut into plain stretches and the disruptions' windows inside it (each 1 s wider at its start:
    the engine's log times are whole seconds, so a line of the disruption's first second is judged as the
    disruption's, never as a plain one)."""
    out: list[tuple[float, float, Disruption | None]] = []
    at = since
    for d in sorted((d for d in disruptions if d.start < until and (d.end or until) + settle_s > since),
                    key=lambda d: d.start):
        start, end = max(at, d.start - 1.0), min(until, (d.end or until) + settle_s)
        if start > at:
            out.append((at, start, None))
        if end > start:
            out.append((start, end, d))
        at = max(at, end)
    if until > at:
        out.append((at, until, None))
    return out


def scan(stack: Stack, manifest: Manifest, service: str, disruptions: list[Disruption],
         settle_s: float = SETTLE_S) -> Scan:
    """Every error line the service printed during the disruptions (each one's window, plus settle_s), sorted into
    those a disruption whose window holds the line is declared to cause, and the rest (windows may overlap: a line
    after one restart's settle time may be the next one's)."""
    windows: dict[str, list[Disruption]] = {}
    for d in disruptions:
        until = (d.end or time.time()) + settle_s
        for line in stack.logs(service, since=d.start, until=until):
            if manifest.is_error_line(line) and d not in windows.setdefault(line, []):
                windows[line].append(d)
    out = Scan()
    for line, ds in windows.items():
        declared = next(((d, e) for d in ds if (e := manifest.expected_during(d.kind, d.target, service, line))), None)
        if declared is not None:
            out.expected.append((declared[0].label, line, declared[1].why))
        else:
            out.unexpected.append((" / ".join(d.label for d in ds), line))
    return out


def settled(disruptions: list[Disruption], settle_s: float = SETTLE_S) -> None:
    """Wait until the last disruption's settle time has passed, so that its window's lines have been printed."""
    last = max((d.end or time.time() for d in disruptions), default=0.0)
    time.sleep(max(0.0, last + settle_s - time.time()))


def judged(stack: Stack, manifest: Manifest, service: str, disruptions: list[Disruption],
           scans: dict[str, Scan], key: str = "") -> tuple[Scan, str]:
    """The service's scan of these disruptions (kept in scans under key, default the service, for the report) and,
    when it logged an error no declaration expects, the finding's 'seen' text; '' when clean. It waits for the
    last window's settle time first."""
    settled(disruptions)
    result = scan(stack, manifest, service, disruptions)
    scans[key or service] = result
    if not result.unexpected:
        return result, ""
    first = " | ".join(f"[{label}] {line[:160]}" for label, line in result.unexpected[:3])
    return result, f"{len(result.unexpected)} undeclared error line(s), first: {first}"
