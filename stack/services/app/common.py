"""What every service shares: env config, JSON errors, the Ollama client, store probes, /health."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

TIMEOUT = httpx.Timeout(float(os.environ.get("UPSTREAM_TIMEOUT", "120")), connect=5)

logging.basicConfig(stream=sys.stdout, level=logging.INFO,
                    format="%(asctime)s %(levelname)s %(name)s: %(message)s")
logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per request is the Ollamas' job


def env(name: str, default: str | None = None) -> str:
    """A required setting: the variable, or default; a clear startup error when neither is there."""
    value = os.environ.get(name, default)
    if value is None or value == "":
        raise SystemExit(f"configuration error: {name} is not set")
    return value


def _store_errors() -> tuple[type[BaseException], ...]:
    errors: list[type[BaseException]] = [OSError]
    try:
        import redis.exceptions

        errors += [redis.exceptions.ConnectionError, redis.exceptions.TimeoutError]
    except ImportError:
        pass
    try:
        import psycopg

        errors.append(psycopg.OperationalError)
    except ImportError:
        pass
    return tuple(errors)


STORE_ERRORS = _store_errors()


class ServiceError(Exception):
    """An error answered as JSON {"error": message, "detail": ...} with a status code."""

    def __init__(self, status: int, message: str, **detail: Any) -> None:
        super().__init__(message)
        self.status, self.message, self.detail = status, message, detail


def error_response(exc: ServiceError) -> JSONResponse:
    return JSONResponse({"error": exc.message, **exc.detail}, status_code=exc.status)


def json_errors(fn: Callable[[Request], Awaitable[Response]]) -> Callable[[Request], Awaitable[Response]]:
    """Wrap a handler: ServiceError -> its JSON; anything unexpected -> 500 JSON that names it."""
    log = logging.getLogger(fn.__module__)

    async def wrapped(request: Request) -> Response:
        try:
            return await fn(request)
        except ServiceError as exc:
            if exc.status >= 500:
                log.error("%s %s failed: %s", request.method, request.url.path, exc.message)
            return error_response(exc)
        except STORE_ERRORS as exc:  # a store that does not answer: 503 that names it, not a crash
            log.error("%s %s failed: a store is unavailable: %s", request.method, request.url.path, exc)
            return JSONResponse({"error": f"store unavailable: {exc}"}, status_code=503)
        except Exception as exc:  # noqa: BLE001 - the service must answer JSON, never a bare 500
            log.exception("%s %s crashed", request.method, request.url.path)
            return JSONResponse({"error": f"internal error: {type(exc).__name__}: {exc}"}, status_code=500)
    return wrapped


async def read_json(request: Request) -> dict:
    try:
        data = await request.json()
    except ValueError:
        raise ServiceError(400, "request body must be JSON") from None
    if not isinstance(data, dict):
        raise ServiceError(400, "request body must be a JSON object")
    return data


class Ollama:
    """A small client of one Ollama server (generate, chat with images, embed)."""

    kind = "Ollama"

    def __init__(self, url: str, variable: str) -> None:
        self.url, self.variable = url.rstrip("/"), variable

    async def _post(self, path: str, payload: dict) -> dict:
        try:
            async with httpx.AsyncClient(base_url=self.url, timeout=TIMEOUT) as client:
                resp = await client.post(path, json=payload)
        except httpx.HTTPError as exc:
            raise ServiceError(502, f"{self.kind} at {self.url} ({self.variable}) unreachable: {exc}") from exc
        if resp.status_code != 200:
            try:
                message = resp.json().get("error", resp.text)
                message = message.get("message", message) if isinstance(message, dict) else message
            except ValueError:
                message = resp.text
            raise ServiceError(502, f"{self.kind} at {self.url} ({self.variable}) answered {resp.status_code}: {message}",
                               upstream_status=resp.status_code)
        return resp.json()

    async def generate(self, model: str, prompt: str, fmt: str | dict | None = None) -> str:
        payload: dict[str, Any] = {"model": model, "prompt": prompt, "stream": False, "options": {"temperature": 0}}
        if fmt:
            payload["format"] = fmt
        return (await self._post("/api/generate", payload))["response"]

    async def chat(self, model: str, messages: list[dict], fmt: str | dict | None = None,
                   options: dict | None = None) -> str:
        """The assistant's answer to a conversation (greedy; `fmt`: "json" or a JSON schema Ollama enforces)."""
        payload: dict[str, Any] = {"model": model, "messages": messages, "stream": False,
                                   "options": {"temperature": 0, **(options or {})}}
        if fmt:
            payload["format"] = fmt
        return (await self._post("/api/chat", payload))["message"]["content"]

    async def stream(self, model: str, messages: list[dict], options: dict | None = None) -> AsyncIterator[str]:
        """The answer's pieces as the model produces them (Ollama's NDJSON stream of /api/chat)."""
        payload = {"model": model, "messages": messages, "stream": True,
                   "options": {"temperature": 0, **(options or {})}}
        async for data in self._stream_lines("/api/chat", payload):
            item = json.loads(data)
            if item.get("error"):
                raise ServiceError(502, f"{self.kind} at {self.url} ({self.variable}): {item['error']}")
            piece = (item.get("message") or {}).get("content")
            if piece:
                yield piece

    async def _stream_lines(self, path: str, payload: dict) -> AsyncIterator[str]:
        try:
            async with httpx.AsyncClient(base_url=self.url, timeout=TIMEOUT) as client, \
                    client.stream("POST", path, json=payload) as resp:
                if resp.status_code != 200:
                    await resp.aread()
                    raise ServiceError(502, f"{self.kind} at {self.url} ({self.variable}) answered "
                                            f"{resp.status_code}: {resp.text[:200]}", upstream_status=resp.status_code)
                async for line in resp.aiter_lines():
                    if line.strip():
                        yield line
        except httpx.HTTPError as exc:
            raise ServiceError(502, f"{self.kind} at {self.url} ({self.variable}) unreachable: {exc}") from exc

    async def see(self, model: str, prompt: str, image_b64: str) -> str:
        payload = {"model": model, "stream": False, "options": {"temperature": 0},
                   "messages": [{"role": "user", "content": prompt, "images": [image_b64]}]}
        return (await self._post("/api/chat", payload))["message"]["content"]

    async def embed(self, model: str, texts: list[str]) -> list[list[float]]:
        return (await self._post("/api/embed", {"model": model, "input": texts}))["embeddings"]

    async def ping(self) -> None:
        """Raise unless the Ollama answers GET /api/version (a /health probe)."""
        async with httpx.AsyncClient(timeout=3) as client:
            (await client.get(self.url + "/api/version")).raise_for_status()

    async def reachable(self) -> bool:
        try:
            async with httpx.AsyncClient(timeout=3) as client:
                return (await client.get(self.url + "/api/version")).status_code == 200
        except httpx.HTTPError:
            return False


class OpenAIServer(Ollama):
    kind = "OpenAI server"
    """The same client over an OpenAI-compatible server (vLLM): chat completions, JSON schemas as
    response_format json_schema (vLLM's guided decoding), streaming as server-sent events."""

    async def chat(self, model: str, messages: list[dict], fmt: str | dict | None = None,
                   options: dict | None = None) -> str:
        payload: dict[str, Any] = {"model": model, "messages": messages, "temperature": 0}
        if fmt == "json":
            payload["response_format"] = {"type": "json_object"}
        elif isinstance(fmt, dict):
            payload["response_format"] = {"type": "json_schema", "json_schema": {"name": "answer", "schema": fmt}}
        if (options or {}).get("repeat_penalty") is not None:
            payload["repetition_penalty"] = options["repeat_penalty"]  # vLLM's name for Ollama's repeat_penalty
        body = await self._post("/v1/chat/completions", payload)
        return body["choices"][0]["message"]["content"]

    async def generate(self, model: str, prompt: str, fmt: str | dict | None = None) -> str:
        return await self.chat(model, [{"role": "user", "content": prompt}], fmt)

    async def stream(self, model: str, messages: list[dict], options: dict | None = None) -> AsyncIterator[str]:
        """The answer's pieces as the server produces them (server-sent events ending in `data: [DONE]`)."""
        payload: dict[str, Any] = {"model": model, "messages": messages, "stream": True, "temperature": 0}
        if (options or {}).get("repeat_penalty") is not None:
            payload["repetition_penalty"] = options["repeat_penalty"]
        done = False
        async for line in self._stream_lines("/v1/chat/completions", payload):
            if not line.startswith("data: "):
                continue
            if line == "data: [DONE]":
                done = True
                break
            delta = (json.loads(line[6:]).get("choices") or [{}])[0].get("delta") or {}
            if delta.get("content"):
                yield delta["content"]
        if not done:
            raise ServiceError(502, f"{self.kind} at {self.url} ({self.variable}): the stream ended without [DONE]")

    async def ping(self) -> None:
        """Raise unless the server answers GET /v1/models (a /health probe)."""
        async with httpx.AsyncClient(timeout=3) as client:
            (await client.get(self.url + "/v1/models")).raise_for_status()


# Answers that restate facts: Ollama's default repeat penalty (1.1) makes a small model change repeated digits
# ("6686" -> "668"); these services copy names and numbers, so they ask for none.
COPYING = {"repeat_penalty": 1.0}


def conversation(system: str, examples: list[tuple[str, str]], user: str) -> list[dict]:
    """A chat of the instruction, worked examples (user, assistant) and the request: a small model follows
    examples far better than instructions (measured: 97-98 of 100 facts restated right with two examples)."""
    out = [{"role": "system", "content": system}]
    for asked, answered in examples:
        out += [{"role": "user", "content": asked}, {"role": "assistant", "content": answered}]
    return out + [{"role": "user", "content": user}]


def llm_from_env(ollama_variable: str = "OLLAMA_URL") -> tuple[Ollama, str, str]:
    """(client, URL, its variable) of this service's LLM: LLM_API=openai with LLM_BASE_URL (an OpenAI-compatible
    server such as vLLM), else the Ollama at ollama_variable."""
    if os.environ.get("LLM_API", "ollama") == "openai":
        url = env("LLM_BASE_URL")
        return OpenAIServer(url, "LLM_BASE_URL"), url, "LLM_BASE_URL"
    url = env(ollama_variable)
    return Ollama(url, ollama_variable), url, ollama_variable


async def probe(check: Callable[[], Awaitable[Any]]) -> str:
    """'ok' when check() completes within 3 s, else the error in one line."""
    try:
        await asyncio.wait_for(check(), 3)
        return "ok"
    except Exception as exc:  # noqa: BLE001 - any failure is a down store
        return f"down: {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"


def health_handler(service: str, upstreams: dict[str, str], models: dict[str, str],
                   dependencies: dict[str, Callable[[], Awaitable[Any]]]) -> Callable[[Request], Awaitable[Response]]:
    """GET /health: status, configured upstream URLs and models, and whether each dependency it needs to work (its
    stores, its Ollamas, the services it calls) answers; 503 while any does not."""
    async def health(request: Request) -> Response:
        names = list(dependencies)
        states = await asyncio.gather(*(probe(dependencies[n]) for n in names))
        ok = all(s == "ok" for s in states)
        return JSONResponse({"status": "ok" if ok else "degraded", "service": service,
                             "upstreams": upstreams, "models": models, "dependencies": dict(zip(names, states))},
                            status_code=200 if ok else 503)
    return health


def prefixed(app: Any, prefix: str) -> Any:
    """The app served under a path prefix (e.g. /v2: /v2/notes, /v2/health), its lifespan kept."""
    from starlette.applications import Starlette
    from starlette.routing import Mount

    if not prefix:
        return app
    return Starlette(routes=[Mount(prefix.rstrip("/"), app=app)], lifespan=app.router.lifespan_context)


def serve(app: Any, port: int) -> None:
    """Run app with uvicorn on 0.0.0.0:port, under $PATH_PREFIX when set; access log off (the services log what
    they do)."""
    import uvicorn

    uvicorn.run(prefixed(app, os.environ.get("PATH_PREFIX", "")), host="0.0.0.0", port=port, log_level="warning",
                access_log=False)


def on_startup(*steps: Callable[[], Awaitable[Any]]) -> Callable[[Any], Any]:
    """A Starlette lifespan that runs steps (e.g. schema creation) before serving."""
    import contextlib

    @contextlib.asynccontextmanager
    async def lifespan(app: Any):  # noqa: ANN202
        for step in steps:
            await step()
        yield
    return lifespan
