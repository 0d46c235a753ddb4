"""Ollama's `[GIN]` access-log lines: parse them and select those since a point in time."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

GIN = re.compile(
    r"\[GIN\] (?P<ts>\d{4}/\d{2}/\d{2} - \d{2}:\d{2}:\d{2}) \| +(?P<status>\d{3}) \| +(?P<latency>\S+) \| +"
    r"(?P<ip>\S+) \| (?P<method>[A-Z]+) +\"(?P<path>[^\"]*)\""
)


@dataclass(frozen=True)
class Access:
    """One request an Ollama served."""

    when: datetime
    status: int
    latency: str
    client_ip: str
    method: str
    path: str


def parse_line(line: str) -> Access | None:
    """The access in one log line (docker's timestamp prefix allowed), or None when it is no GIN line."""
    m = GIN.search(line)
    if not m:
        return None
    return Access(datetime.strptime(m["ts"], "%Y/%m/%d - %H:%M:%S"), int(m["status"]), m["latency"],
                  m["ip"], m["method"], m["path"])


def parse(lines: Iterable[str]) -> list[Access]:
    """Every GIN access in lines, in order."""
    return [a for a in (parse_line(ln) for ln in lines) if a is not None]
