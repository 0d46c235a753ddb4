"""The one HTTP client factory: bounded timeouts for every request the gate sends."""

from __future__ import annotations

import httpx

READ_S = 120.0    # an LLM answer on one CPU core may take this long
CONNECT_S = 5.0   # a service that does not accept a connection in 5 s is down


def timeout(read_s: float = READ_S, connect_s: float = CONNECT_S) -> httpx.Timeout:
    """The gate's timeout: read_s for an answer, connect_s to connect."""
    return httpx.Timeout(read_s, connect=connect_s)


def client(read_s: float = READ_S) -> httpx.Client:
    """A new httpx client with the gate's timeouts (use it as a context manager)."""
    return httpx.Client(timeout=timeout(read_s))


def async_client(read_s: float = READ_S) -> httpx.AsyncClient:
    """The async twin of client()."""
    return httpx.AsyncClient(timeout=timeout(read_s))
