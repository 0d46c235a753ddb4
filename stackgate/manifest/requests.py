"""Requests the manifest declares, and what must hold of their answers, as plain data: a service's probe, a
round-trip's steps and checks, and the templates they are written in (`render`)."""

from __future__ import annotations

import string
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Upload:
    """A document generated for the request, sent as a multipart file."""

    field: str = "file"
    kind: str | None = None                  # png / pdf; None: the chain's document kind
    lines: tuple[str, ...] | None = None     # None: the chain's document lines


@dataclass(frozen=True)
class Request:
    """One HTTP request to a service of the stack."""

    service: str
    path: str
    method: str = "GET"
    json: Any = None
    params: Mapping[str, Any] = field(default_factory=dict)
    headers: Mapping[str, str] = field(default_factory=dict)
    upload: Upload | None = None
    expect: int = 200

    @classmethod
    def parse(cls, raw: dict, service: str | None = None, expect: int | None = None) -> Request:
        up = raw.get("upload")
        return cls(service=raw.get("service") or service or "", path=raw["path"], method=raw.get("method", "GET"),
                   json=raw.get("json"), params=dict(raw.get("params") or {}), headers=dict(raw.get("headers") or {}),
                   upload=None if up is None else Upload(up.get("field", "file"), up.get("kind"),
                                                         tuple(up["lines"]) if "lines" in up else None),
                   expect=int(raw.get("expect", expect or 200)))

    def describe(self, values: Mapping[str, str]) -> str:
        return f"{self.method} {render(self.path, values)}"


@dataclass(frozen=True)
class Check:
    """What must hold of an answer: `at` a JSONPath (or a `value` template) holds / equals / lacks / is not part of /
    is a sentence."""

    at: str | None = None
    value: str | None = None
    holds: str | None = None
    equals: str | None = None
    lacks: tuple[str, ...] = ()
    at_least: int | None = None  # this many values at least at `at` (e.g. a streamed answer's token events)
    not_part_of: tuple[str, ...] = ()  # texts the answer must not be a mere fragment of (a run of their words)
    sentence: bool = False  # the answer ends as a sentence does (. ! ?): not words cut out of a prompt, nor cut off

    @classmethod
    def parse(cls, raw: dict) -> Check:
        return cls(raw.get("at"), raw.get("value"), raw.get("holds"), raw.get("equals"), tuple(raw.get("lacks") or ()),
                   raw.get("at_least"), tuple(raw.get("not_part_of") or ()), bool(raw.get("sentence")))


@dataclass(frozen=True)
class Step:
    """One step of a round-trip: an optional request, values to save, checks; one test."""

    id: str
    title: str
    request: Request | None = None
    writes: bool = False
    save: Mapping[str, str] = field(default_factory=dict)
    checks: tuple[Check, ...] = ()

    @property
    def service(self) -> str | None:
        return self.request.service if self.request else None


@dataclass(frozen=True)
class Roundtrip:
    """A chain of steps under one metric; with a document, one chain per document kind."""

    name: str
    metric: str
    steps: tuple[Step, ...]
    kinds: tuple[str, ...] = ()
    lines: tuple[str, ...] = ()

    @property
    def services(self) -> list[str]:
        return list(dict.fromkeys(s.service for s in self.steps if s.service))

    def chains(self) -> list[str]:
        """The chain keys: one per document kind, or the round-trip alone."""
        return list(self.kinds) or [""]


class _Strict(dict):
    def __missing__(self, key: str) -> str:
        raise KeyError(key)


def render(value: Any, values: Mapping[str, str]) -> Any:
    """A template filled from values (strings, and strings inside lists and dicts); KeyError names a missing one."""
    if isinstance(value, str):
        return string.Formatter().vformat(value, (), _Strict(values))
    if isinstance(value, list):
        return [render(v, values) for v in value]
    if isinstance(value, dict):
        return {k: render(v, values) for k, v in value.items()}
    return value
