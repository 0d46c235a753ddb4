"""Evidence of scale-out on a swarm stack: a burst of requests through an app (`send_burst`, optionally killing a
replica while it runs) and the work each replica served by its own access log (`work_per_replica`)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import httpx

from stackgate.core.workers import running
from stackgate.manifest import Manifest, Request

from .accesslog import parse
from .isolation import Load
from .routing import is_work


@dataclass
class Burst(Load):
    """What one burst did (answers as declared, failures), and the work requests each replica served."""

    per_replica: dict[int, int] = field(default_factory=dict)   # slot -> work requests in its access log
    seconds: float = 0.0


def send_burst(http_factory: Callable[[], httpx.Client], manifest: Manifest, req: Request, values: Mapping[str, str],
               n: int, workers: int, during: Callable[[int], None] | None = None) -> Burst:
    """n requests over `workers` threads, each with its sequence number as {seq}; `during(k)` is called once, after
    the k-th answer (k = n // 4)."""
    out, lock, todo = Burst(), threading.Lock(), list(range(n))
    fired = threading.Event()
    t0 = time.monotonic()

    def worker() -> None:
        with http_factory() as client:
            while True:
                with lock:
                    if not todo:
                        return
                    seq = todo.pop()
                sent = out.send(client, manifest, req, {**values, "seq": str(seq)})
                with lock:
                    trigger = during is not None and sent >= max(1, n // 4) and not fired.is_set()
                    if trigger:
                        fired.set()
                if trigger:
                    during(sent)

    with running(workers, worker):
        pass
    out.seconds = round(time.monotonic() - t0, 1)
    return out


def work_per_replica(replica_logs: Mapping[int, list[str]], clients: set[str]) -> dict[int, int]:
    """slot -> the work requests (generate, chat, embed, ...) from one of these client IPs its access log shows."""
    return {slot: sum(1 for a in parse(lines) if is_work(a) and a.client_ip in clients)
            for slot, lines in sorted(replica_logs.items())}

