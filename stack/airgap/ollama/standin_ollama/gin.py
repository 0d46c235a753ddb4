"""Ollama's access-log line (gin's default formatter, no colours), one per request on stdout."""

from __future__ import annotations

from datetime import datetime


def go_duration(seconds: float) -> str:
    """Format seconds like Go's time.Duration.String(): 600.829µs, 1.5ms, 2.000001s, 1m2s."""
    ns = int(round(seconds * 1e9))
    if ns < 1000:
        return f"{ns}ns"
    if ns < 1_000_000:
        return _trim(f"{ns / 1e3:.3f}") + "µs"
    if ns < 1_000_000_000:
        return _trim(f"{ns / 1e6:.6f}") + "ms"
    minutes, rest = divmod(ns, 60_000_000_000)
    secs = _trim(f"{rest / 1e9:.9f}") + "s"
    return f"{minutes}m{secs}" if minutes else secs


def _trim(num: str) -> str:
    return num.rstrip("0").rstrip(".") if "." in num else num


def gin_line(when: datetime, status: int, latency_s: float, client_ip: str, method: str, path: str) -> str:
    """`[GIN] 2025/03/08 - 21:33:37 | 200 |     600.829µs |       127.0.0.1 | GET      "/api/tags"`."""
    quoted = '"' + path.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return (f"[GIN] {when:%Y/%m/%d - %H:%M:%S} | {status:3d} | {go_duration(latency_s):>13} | "
            f"{client_ip:>15} | {method:<7}  {quoted}")
