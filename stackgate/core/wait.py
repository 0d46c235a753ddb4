"""The one wait: poll a check until it holds or a timeout passes, with an injectable clock (pytest-docker's
`wait_until_responsive`, returning how long it took)."""

from __future__ import annotations

import time
from collections.abc import Callable


def wait_until(check: Callable[[], bool], timeout: float, pause: float = 0.5,
               clock: Callable[[], float] = time.monotonic,
               sleep: Callable[[float], None] = time.sleep,
               stop: Callable[[], bool] = lambda: False) -> float | None:
    """Seconds until check() held (checked at once, then every pause), or None when timeout passed first or
    stop() said to give up; a check that raises counts as 'not yet' only if it says so itself."""
    start = clock()
    while True:
        if check():
            return round(clock() - start, 1)
        if clock() - start >= timeout or stop():
            return None
        sleep(pause)
