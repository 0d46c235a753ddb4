"""OpenAI API conformance of one endpoint (an Ollama's /v1, vLLM's OpenAI server or its stand-in): each check
returns the problems it saw (empty: conformant), written against OpenAI's and vLLM's documented behaviour."""

from __future__ import annotations

import json

import httpx

UNKNOWN_MODEL = "stackgate-no-such-model:0b"
HELLO = [{"role": "user", "content": "Say hello."}]


def _error_object(resp: httpx.Response) -> str | None:
    """The problem with an error answer's body: OpenAI's {"error": {"message": ...}} (vLLM, Ollama) or a flat
    {"error": "..."}; None when it is one."""
    try:
        body = resp.json()
    except ValueError:
        return f"a non-JSON body {resp.text[:120]!r}"
    err = body.get("error") if isinstance(body, dict) else None
    message = err.get("message") if isinstance(err, dict) else err
    if message is None and isinstance(body, dict) and body.get("object") == "error":  # vLLM's older ErrorResponse
        message = body.get("message")
    return None if isinstance(message, str) and message else f"no error message in {str(body)[:160]}"


def models(http: httpx.Client, base: str, want: list[str], normalise=str) -> list[str]:
    """GET /v1/models is an OpenAI list holding every model in want."""
    resp = http.get(base + "/v1/models")
    if resp.status_code != 200:
        return [f"/v1/models -> {resp.status_code} {resp.text[:120]}"]
    body = resp.json()
    ids = {normalise(m.get("id", "")) for m in body.get("data", [])} if body.get("object") == "list" else set()
    missing = [m for m in want if normalise(m) not in ids]
    return [f"/v1/models lacks {missing} (lists {sorted(ids)})"] if missing else []


def chat(http: httpx.Client, base: str, model: str) -> list[str]:
    """A chat completion without streaming: an assistant message with content, a finish reason, and usage whose
    total is prompt + completion tokens."""
    resp = http.post(base + "/v1/chat/completions", json={"model": model, "messages": HELLO, "max_tokens": 16,
                                                          "temperature": 0})
    if resp.status_code != 200:
        return [f"chat -> {resp.status_code} {resp.text[:120]}"]
    body, problems = resp.json(), []
    choice = (body.get("choices") or [{}])[0]
    message = choice.get("message") or {}
    if body.get("object") != "chat.completion":
        problems.append(f"object {body.get('object')!r}, not 'chat.completion'")
    if message.get("role") != "assistant" or not str(message.get("content") or "").strip():
        problems.append(f"no assistant content in {str(message)[:120]}")
    if choice.get("finish_reason") not in ("stop", "length"):
        problems.append(f"finish_reason {choice.get('finish_reason')!r}")
    usage = body.get("usage") or {}
    counts = [usage.get(k) for k in ("prompt_tokens", "completion_tokens", "total_tokens")]
    if not all(isinstance(c, int) and c > 0 for c in counts) or counts[0] + counts[1] != counts[2]:
        problems.append(f"usage {usage} (positive counts, total = prompt + completion)")
    return problems


def stream(http: httpx.Client, base: str, model: str) -> list[str]:
    """A streamed chat completion: server-sent events `data: {chunk}` with content deltas, one finish reason,
    and `data: [DONE]` last."""
    resp = http.post(base + "/v1/chat/completions", json={"model": model, "messages": HELLO, "max_tokens": 16,
                                                          "temperature": 0, "stream": True})
    if resp.status_code != 200:
        return [f"stream -> {resp.status_code} {resp.text[:120]}"]
    if not resp.headers.get("content-type", "").startswith("text/event-stream"):
        return [f"content-type {resp.headers.get('content-type')!r}, not text/event-stream"]
    events = [ln[len("data: "):] for ln in resp.text.splitlines() if ln.startswith("data: ")]
    if not events or events[-1] != "[DONE]":
        return [f"the stream does not end in `data: [DONE]` (last event {events[-1:]!r})"]
    try:
        chunks = [json.loads(e) for e in events[:-1]]
    except ValueError as exc:
        return [f"an event that is not JSON: {exc}"]
    problems = []
    if any(c.get("object") != "chat.completion.chunk" for c in chunks):
        problems.append("an event whose object is not 'chat.completion.chunk'")
    text = "".join(str(((c.get("choices") or [{}])[0].get("delta") or {}).get("content") or "") for c in chunks)
    if not text.strip():
        problems.append("no content in the deltas")
    finishes = [((c.get("choices") or [{}])[0]).get("finish_reason") for c in chunks if c.get("choices")]
    if sum(f is not None for f in finishes) != 1:
        problems.append(f"{sum(f is not None for f in finishes)} finish reasons (expected exactly one)")
    return problems


def unknown_model(http: httpx.Client, base: str) -> list[str]:
    """A model the server does not serve is a 404 with an error message (never an answer from another model)."""
    resp = http.post(base + "/v1/chat/completions", json={"model": UNKNOWN_MODEL, "messages": HELLO, "max_tokens": 4})
    if resp.status_code != 404:
        return [f"model {UNKNOWN_MODEL!r} -> {resp.status_code} (expected 404) {resp.text[:120]}"]
    problem = _error_object(resp)
    return [problem] if problem else []


def bad_input(http: httpx.Client, base: str, model: str) -> list[str]:
    """A request without messages is a 400 with an error message."""
    resp = http.post(base + "/v1/chat/completions", json={"model": model})
    if resp.status_code != 400:
        return [f"a request without messages -> {resp.status_code} (expected 400) {resp.text[:120]}"]
    problem = _error_object(resp)
    return [problem] if problem else []
