"""Isolation: LLM latency while a burst of vision work runs, against the same LLM requests on an idle stack.

The separation's purpose (LLM and vision queries do not compete for resources) as a number: p50 / p95 of a
timed LLM request, idle and under load, and the bound the manifest sets on the loaded p95.
"""

from __future__ import annotations

import os
import statistics
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import httpx

from stackgate.core.workers import running
from stackgate.manifest import Isolation, Manifest, Request

from .send import fire, send


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0..100) by linear interpolation (numpy's default); nan for no values."""
    if not values:
        return float("nan")
    xs = sorted(values)
    k = (len(xs) - 1) * q / 100
    lo, hi = int(k), min(int(k) + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (k - lo)


@dataclass
class Timing:
    """Latencies (s) of the timed request in one phase, and the failures seen."""

    latencies: list[float] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)

    @property
    def attempts(self) -> list:
        """Every timed send, answered or failed."""
        return [*self.latencies, *self.failures]

    def extend(self, other: Timing) -> None:
        self.latencies += other.latencies
        self.failures += other.failures

    @property
    def p50(self) -> float:
        return percentile(self.latencies, 50)

    @property
    def p95(self) -> float:
        return percentile(self.latencies, 95)

    def summary(self) -> dict:
        return {"n": len(self.latencies), "p50_s": round(self.p50, 3), "p95_s": round(self.p95, 3),
                "mean_s": round(statistics.fmean(self.latencies), 3) if self.latencies else None,
                "failures": self.failures[:5]}


@dataclass
class Load:
    """What a burst did: requests sent, answered as declared, and the failures; threads count into it with send()."""

    sent: int = 0
    ok: int = 0
    failures: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def send(self, client: httpx.Client, manifest: Manifest, req: Request, values: Mapping[str, str]) -> int:
        """Send one declared request and count it (an answer other than its `expect` is a failure); the number
        sent so far."""
        try:
            resp = send(client, manifest, req, values)
            good, why = resp.status_code == req.expect, f"{req.service} {resp.status_code}: {resp.text[:100]}"
        except httpx.HTTPError as exc:
            good, why = False, f"{req.service} {type(exc).__name__}: {exc}"
        with self.lock:
            self.sent += 1
            self.ok += good
            if not good:
                self.failures.append(why)
            return self.sent


def time_requests(send_one: Callable[[], httpx.Response], expect: int, n: int) -> Timing:
    """n sequential sends, each timed; an answer other than `expect` is a failure (and not a latency)."""
    out = Timing()
    for _ in range(n):
        t0 = time.perf_counter()
        try:
            resp = send_one()
        except httpx.HTTPError as exc:
            out.failures.append(f"{type(exc).__name__}: {exc}")
            continue
        spent = time.perf_counter() - t0
        if resp.status_code != expect:
            out.failures.append(f"{resp.status_code}: {resp.text[:120]}")
        else:
            out.latencies.append(spent)
    return out


def measure(http_factory: Callable[[], httpx.Client], manifest: Manifest, iso: Isolation,
            values: Mapping[str, str], warmup_s: float = 1.0, block: int = 5,
            sender_cpus: set[int] | None = None) -> tuple[Timing, Timing, Load]:
    """(idle, loaded, load): the timed request in alternating blocks of `block` samples, idle and while `workers`
    threads send the burst, until each phase has `samples`. Alternating blocks share the machine's drift (another
    process, a cache) between the phases instead of giving it to one. The burst's senders run on sender_cpus (the
    vision side's), so that the gate's own load generation does not take the LLM's CPU. A burst that fails ends the
    measurement after its block: latencies under a lighter load than declared judge nothing."""
    http = http_factory()
    if len(iso.timed) > 1:
        fire(http, manifest, iso.timed[:-1], values)
    timed = iso.timed[-1]
    one = lambda: send(http, manifest, timed, values)  # noqa: E731
    one()  # the model is loaded and warm before anything is timed
    idle, loaded, load = Timing(), Timing(), Load()

    def burst(stop: threading.Event) -> Callable[[], None]:
        def worker() -> None:
            if sender_cpus:
                os.sched_setaffinity(0, sender_cpus)  # this thread only (Linux: 0 is the calling thread)
            with http_factory() as client:
                while not stop.is_set():
                    for req in iso.load:
                        if stop.is_set():
                            return
                        load.send(client, manifest, req, values)
        return worker

    while len(idle.attempts) < iso.samples or len(loaded.attempts) < iso.samples:
        idle.extend(time_requests(one, timed.expect, min(block, iso.samples - len(idle.attempts))))
        stop = threading.Event()
        with running(iso.workers, burst(stop), stop=stop, join_s=120):
            time.sleep(warmup_s)
            loaded.extend(time_requests(one, timed.expect, min(block, iso.samples - len(loaded.attempts))))
        if load.failures:
            break
    return idle, loaded, load


def cpus_of(cpuset: str) -> set[int]:
    """The CPUs of a cpuset string ("0", "0-3", "0,2-3"); empty for an empty one (no pinning)."""
    out: set[int] = set()
    for part in filter(None, (p.strip() for p in cpuset.split(","))):
        lo, _, hi = part.partition("-")
        out |= set(range(int(lo), int(hi or lo) + 1))
    return out
