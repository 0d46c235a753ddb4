"""Requests the manifest declares, and what must hold of their answers: a service's probe, a round-trip's steps.

Nothing here knows a service name or an endpoint path: every request comes from the manifest. Strings are
templates over a chain's values (this run's {number} and {vendor}, a document's {line} and {kind}, and what
earlier steps saved).
"""

from __future__ import annotations

import functools
import json
import string
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import httpx
from jsonpath_ng.ext import parse as jsonpath

from .documents import render_pdf, render_png
from .errors import ManifestError

if TYPE_CHECKING:
    from .manifest import Manifest


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
    """What must hold of an answer: `at` a JSONPath (or a `value` template) holds / equals / lacks."""

    at: str | None = None
    value: str | None = None
    holds: str | None = None
    equals: str | None = None
    lacks: tuple[str, ...] = ()
    at_least: int | None = None  # this many values at least at `at` (e.g. a streamed answer's token events)

    @classmethod
    def parse(cls, raw: dict) -> Check:
        return cls(raw.get("at"), raw.get("value"), raw.get("holds"), raw.get("equals"), tuple(raw.get("lacks") or ()),
                   raw.get("at_least"))


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


def parse_roundtrip(name: str, raw: dict) -> Roundtrip:
    steps = []
    for s in raw["steps"]:
        req = Request.parse(s["request"], s.get("service"), s.get("expect")) if "request" in s else None
        steps.append(Step(s["id"], s["title"], req, bool(s.get("writes")), dict(s.get("save") or {}),
                          tuple(Check.parse(c) for c in s.get("checks") or [])))
    doc = raw.get("document") or {}
    return Roundtrip(name, raw["metric"], tuple(steps), tuple(doc.get("kinds") or ()), tuple(doc.get("lines") or ()))


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


@functools.lru_cache(maxsize=64)
def rendered(kind: str, lines: tuple[str, ...]) -> bytes:
    """A document of these lines as PNG or PDF bytes, rendered once (a burst sends the same pages again)."""
    return render_pdf(list(lines)) if kind == "pdf" else render_png(list(lines))


def send(http: httpx.Client, manifest: Manifest, req: Request, values: Mapping[str, str]) -> httpx.Response:
    """Send one declared request with the chain's values."""
    kwargs: dict[str, Any] = {"params": render(dict(req.params), values) or None,
                              "headers": render(dict(req.headers), values) or None}
    if req.json is not None:
        kwargs["json"] = render(req.json, values)
    if req.upload is not None:
        kind = req.upload.kind or values.get("kind") or "png"
        lines = render(list(req.upload.lines), values) if req.upload.lines is not None else values["lines"].split("\n")
        data = rendered(kind, tuple(lines))
        kwargs["files"] = {req.upload.field: (f"document.{kind}", data, f"{'application' if kind == 'pdf' else 'image'}"
                                                                        f"/{kind}")}
    return http.request(req.method, manifest.url(req.service) + render(req.path, values), **kwargs)


class PreparationFailed(httpx.HTTPError):
    """A probe's preparing request (not its last) was not answered as declared."""


def fire(http: httpx.Client, manifest: Manifest, requests: tuple[Request, ...], values: Mapping[str, str]) -> httpx.Response:
    """Send a probe's requests in order; the last answer. An earlier (preparing) request answered with another
    status than its `expect` raises PreparationFailed naming its service."""
    if not requests:
        raise ManifestError("manifest: a probe needs at least one request")
    for req in requests[:-1]:
        resp = send(http, manifest, req, values)
        if resp.status_code != req.expect:
            raise PreparationFailed(f"{req.service} answered {req.describe(values)} with {resp.status_code} "
                                    f"(expected {req.expect}): {resp.text[:150]}")
    return send(http, manifest, requests[-1], values)


def body_of(resp: httpx.Response) -> Any:
    """The JSON answer; for server-sent events {"events": [each event's data, JSON-decoded where it is JSON],
    "last": the last event}; None when it is neither."""
    if resp.headers.get("content-type", "").startswith("text/event-stream"):
        return sse_events(resp.text)
    try:
        return resp.json()
    except (ValueError, json.JSONDecodeError):
        return None


def sse_events(text: str) -> dict[str, Any]:
    """A server-sent-events body as {"events": [...], "last": ...}: one entry per event (its data lines joined)."""
    events = []
    for block in text.replace("\r\n", "\n").split("\n\n"):
        data = "\n".join(line[5:].lstrip(" ") for line in block.split("\n") if line.startswith("data:"))
        if data:
            try:
                events.append(json.loads(data))
            except ValueError:
                events.append(data)
    return {"events": events, "last": events[-1] if events else None}


def extract(body: Any, path: str) -> list[Any]:
    """Every value at a JSONPath of an answer."""
    return [m.value for m in jsonpath(path).find(body)]
