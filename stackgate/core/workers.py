"""The one worker pool loop: n threads running the same work, joined (and told to stop) on the way out."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator


@contextlib.contextmanager
def running(n: int, work: Callable[[], None], stop: threading.Event | None = None,
            join_s: float = 600) -> Iterator[None]:
    """n daemon threads run work() while the block runs; on leaving, stop is set and each thread is joined
    (at most join_s seconds each)."""
    threads = [threading.Thread(target=work, daemon=True) for _ in range(n)]
    for t in threads:
        t.start()
    try:
        yield
    finally:
        if stop is not None:
            stop.set()
        for t in threads:
            t.join(timeout=join_s)
