"""A logger that prints on the terminal now, past pytest's output capture (progress of long waits)."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest


def live_log(config: pytest.Config) -> Callable[[str], None]:
    """A thread-safe logger writing through pytest's terminal reporter, capture suspended; silent without one."""
    tr = config.pluginmanager.get_plugin("terminalreporter")
    capman = config.pluginmanager.get_plugin("capturemanager")
    lock = threading.Lock()

    def log(msg: str) -> None:
        if tr is None:
            return
        with lock:
            if capman is not None:
                with capman.global_and_fixture_disabled():
                    tr.write_line(msg)
            else:
                tr.write_line(msg)
    return log
