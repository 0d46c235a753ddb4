"""Sending the requests the manifest declares (a service's probe, a round-trip's steps) and reading their answers.

Nothing here knows a service name or an endpoint path: every request comes from the manifest. Strings are
templates over a chain's values (this run's {number} and {vendor}, a document's {line} and {kind}, and what
earlier steps saved).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from typing import Any

import httpx
from jsonpath_ng.ext import parse as jsonpath

from stackgate.core.errors import ManifestError
from stackgate.manifest import Manifest, Request, render

from .documents import render_pdf, render_png


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
