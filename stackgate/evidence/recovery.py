"""Evidence of recovery: trigger services' work concurrently, and again until each works, timing it."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import httpx

from stackgate.core import http
from stackgate.core.wait import wait_until
from stackgate.engines.base import Stack

from . import send

Answer = tuple[int | str, float, str]  # status (or the error's name), seconds, the body's start


PROBE_VALUES = {"number": "1234", "vendor": "RECOVERY"}


def fire(stack: Stack, services: list[str], timeout: float) -> dict[str, Answer]:
    """Send services' probes (from the manifest) concurrently: service -> (status or error, seconds, body)."""
    def one(svc: str) -> tuple[str, Answer]:
        t0 = time.monotonic()
        try:
            with http.client(timeout) as client:
                resp = send.fire(client, stack.manifest, stack.manifest.services[svc].probe, PROBE_VALUES)
            return svc, (resp.status_code, time.monotonic() - t0, resp.text[:300])
        except httpx.HTTPError as exc:
            return svc, (type(exc).__name__, time.monotonic() - t0, str(exc)[:300])
    with ThreadPoolExecutor(max_workers=len(services) or 1) as pool:
        return dict(pool.map(one, services))


def works(answer: Answer) -> bool:
    return isinstance(answer[0], int) and answer[0] < 300


def until_all_work(stack: Stack, services: list[str], bound_s: float = 90) -> tuple[float | None, dict[str, Answer]]:
    """Trigger services again and again until each answers 2xx: (seconds it took, or None; the last answers)."""
    last: dict[str, Answer] = {}

    def all_work() -> bool:
        nonlocal last
        last = fire(stack, services, timeout=30)
        return all(works(a) for a in last.values())

    return wait_until(all_work, bound_s, pause=1), last


def broken(answers: dict[str, Answer]) -> str:
    """The answers that are not 2xx, one line."""
    return "; ".join(f"{svc}: {a[0]} {a[2][:120]}" for svc, a in answers.items() if not works(a))
