"""Evidence of recovery: trigger services' work concurrently, and again until each works, timing it."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import httpx

from . import probes
from .stack import Stack

Answer = tuple[int | str, float, str]  # status (or the error's name), seconds, the body's start


PROBE_VALUES = {"number": "1234", "vendor": "RECOVERY"}


def fire(stack: Stack, services: list[str], timeout: float) -> dict[str, Answer]:
    """Send services' probes (from the manifest) concurrently: service -> (status or error, seconds, body)."""
    def one(svc: str) -> tuple[str, Answer]:
        t0 = time.monotonic()
        try:
            with httpx.Client(timeout=httpx.Timeout(timeout, connect=5)) as http:
                resp = probes.fire(http, stack.manifest, stack.manifest.services[svc].probe, PROBE_VALUES)
            return svc, (resp.status_code, time.monotonic() - t0, resp.text[:300])
        except httpx.HTTPError as exc:
            return svc, (type(exc).__name__, time.monotonic() - t0, str(exc)[:300])
    with ThreadPoolExecutor(max_workers=len(services) or 1) as pool:
        return dict(pool.map(one, services))


def works(answer: Answer) -> bool:
    return isinstance(answer[0], int) and answer[0] < 300


def until_all_work(stack: Stack, services: list[str], bound_s: float = 90) -> tuple[float | None, dict[str, Answer]]:
    """Trigger services again and again until each answers 2xx: (seconds it took, or None; the last answers)."""
    t0, last = time.monotonic(), {}
    while time.monotonic() - t0 < bound_s:
        last = fire(stack, services, timeout=30)
        if all(works(a) for a in last.values()):
            return time.monotonic() - t0, last
        time.sleep(1)
    return None, last


def broken(answers: dict[str, Answer]) -> str:
    """The answers that are not 2xx, one line."""
    return "; ".join(f"{svc}: {a[0]} {a[2][:120]}" for svc, a in answers.items() if not works(a))
