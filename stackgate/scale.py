"""Scale-out checks on a swarm stack: replicas per Ollama, requests spread over them, a replica lost under load.

`Scale` is the manifest's `scale` section; `burst` drives one Ollama through an app and counts what each replica
served (its own access log); `lose_a_replica` kills one replica while a burst runs and times swarm's recovery.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import httpx

from .accesslog import parse
from .isolation import Load
from .probes import Request
from .routing import is_work


@dataclass(frozen=True)
class Scale:
    """The scaled deployment: its swarm override, replicas per Ollama, the requests that drive each Ollama, and
    the bounds of losing a replica."""

    file: str                          # the swarm override beside the manifest
    replicas: dict[str, int]           # Ollama -> replicas it must run
    drive: dict[str, Request]          # Ollama -> a request that makes an app call it
    requests: int = 16                 # per burst
    workers: int = 4
    max_failed: int = 4                # failed requests allowed while one replica is killed
    recover_s: float = 120             # until swarm has every replica healthy again


@dataclass
class Burst(Load):
    """What one burst did (answers as declared, failures), and the work requests each replica served."""

    per_replica: dict[int, int] = field(default_factory=dict)   # slot -> work requests in its access log
    seconds: float = 0.0


def send_burst(http_factory: Callable[[], httpx.Client], manifest, req: Request, values: Mapping[str, str],
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

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=600)
    out.seconds = round(time.monotonic() - t0, 1)
    return out


def work_per_replica(replica_logs: Mapping[int, list[str]], clients: set[str]) -> dict[int, int]:
    """slot -> the work requests (generate, chat, embed, ...) from one of these client IPs its access log shows."""
    return {slot: sum(1 for a in parse(lines) if is_work(a) and a.client_ip in clients)
            for slot, lines in sorted(replica_logs.items())}


def wait_for(check: Callable[[], bool], bound_s: float, every_s: float = 0.5) -> float | None:
    """Seconds until check() held, or None when it did not within bound_s."""
    t0 = time.monotonic()
    while time.monotonic() - t0 < bound_s:
        if check():
            return round(time.monotonic() - t0, 1)
        time.sleep(every_s)
    return None
