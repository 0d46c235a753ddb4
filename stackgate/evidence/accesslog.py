"""Access-log lines of the model servers: Ollama's `[GIN]` lines and uvicorn's (vLLM's OpenAI server and its
stand-in), parsed into one `Access` shape."""

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


# uvicorn's access line (vLLM's OpenAI server and its stand-in): `INFO:     172.18.0.5:40112 - "POST /v1/chat/
# completions HTTP/1.1" 200 OK`; the time is docker's timestamp prefix when the logs were read with it.
UVICORN = re.compile(r"(?:(?P<dts>\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})\S*\s+)?.*?INFO:\s+(?P<ip>[0-9a-fA-F.:]+?):\d+ - "
                     r"\"(?P<method>[A-Z]+) (?P<path>[^ \"?]*)[^\"]*\" (?P<status>\d{3})")


def parse_line(line: str) -> Access | None:
    """The access in one log line (docker's timestamp prefix allowed): Ollama's GIN line or uvicorn's; None when
    it is neither."""
    m = GIN.search(line)
    if not m:
        u = UVICORN.search(line)
        if not u:
            return None
        when = datetime.strptime(u["dts"], "%Y-%m-%dT%H:%M:%S") if u["dts"] else datetime.now()
        return Access(when, int(u["status"]), "", u["ip"], u["method"], u["path"])
    return Access(datetime.strptime(m["ts"], "%Y/%m/%d - %H:%M:%S"), int(m["status"]), m["latency"],
                  m["ip"], m["method"], m["path"])


def parse(lines: Iterable[str]) -> list[Access]:
    """Every access (GIN or uvicorn line) in lines, in order."""
    return [a for a in (parse_line(ln) for ln in lines) if a is not None]
