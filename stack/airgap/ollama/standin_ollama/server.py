"""Ollama's HTTP API (native + OpenAI-compatible) over the stand-in store and inference."""

from __future__ import annotations

import json
import os
import sys
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import UTC, datetime

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response, StreamingResponse
from starlette.routing import Route

from . import BACKEND, VERSION, store
from .catalogue import Model, lookup
from .gin import gin_line
from .infer import OCRError, embed, generate_text, tokens
from .names import normalise

LOADED = store.Loaded()


class APIError(Exception):
    """An error answered as Ollama does: {"error": message} with a status code."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def now_iso() -> str:
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


async def body(request: Request) -> dict:
    raw = await request.body()
    if not raw:
        raise APIError(400, "missing request body")
    try:
        data = json.loads(raw)
    except ValueError as exc:
        raise APIError(400, f"invalid character in request body: {exc}") from exc
    if not isinstance(data, dict):
        raise APIError(400, "json: cannot unmarshal into request")
    return data


def model_name(data: dict) -> str:
    name = data.get("model") or data.get("name") or ""
    if not name:
        raise APIError(400, "model is required")
    try:
        return normalise(name)
    except ValueError as exc:
        raise APIError(400, str(exc)) from exc


def pulled(name: str, embed_style: bool = False, asked: str | None = None) -> Model:
    """The model behind a pulled name, or Ollama's 404 (naming the model as it was asked for)."""
    manifest = store.get(name)
    if manifest is None:
        short = asked or name
        msg = f'model "{short}" not found, try pulling it first' if embed_style else f"model '{short}' not found"
        raise APIError(404, msg)
    return store.model_of(manifest)


def details(model: Model) -> dict:
    return {"parent_model": "", "format": "standin", "family": model.family, "families": [model.family],
            "parameter_size": "stand-in", "quantization_level": "stand-in"}


def tag_entry(manifest: dict) -> dict:
    model = store.model_of(manifest)
    return {"name": manifest["name"], "model": manifest["name"], "modified_at": manifest["modified_at"],
            "size": manifest["size"], "digest": manifest["digest"], "details": details(model)}


def durations(prompt: str, out: str, started: float) -> dict:
    total = int((time.perf_counter() - started) * 1e9)
    return {"total_duration": total, "load_duration": 0, "prompt_eval_count": max(1, len(tokens(prompt))),
            "prompt_eval_duration": total // 2, "eval_count": max(1, len(tokens(out))),
            "eval_duration": total - total // 2}


def ndjson(items: Iterator[dict]) -> StreamingResponse:
    async def gen() -> AsyncIterator[bytes]:
        for item in items:
            yield (json.dumps(item) + "\n").encode()
    return StreamingResponse(gen(), media_type="application/x-ndjson")


def chunks(text: str) -> list[str]:
    """Split an answer into streamed pieces (words with their following space)."""
    parts = text.split(" ")
    return [p + (" " if i < len(parts) - 1 else "") for i, p in enumerate(parts)] or [""]


def keep_alive(data: dict) -> float:
    value = data.get("keep_alive", 300)
    if isinstance(value, (int, float)):
        return float(value)
    units = {"ms": 0.001, "s": 1, "m": 60, "h": 3600}
    for suffix in ("ms", "s", "m", "h"):
        if str(value).endswith(suffix):
            try:
                return float(str(value)[: -len(suffix)]) * units[suffix]
            except ValueError:
                break
    raise APIError(400, f"time: invalid duration {value!r}")


def run_inference(model: Model, prompt: str, system: str, images: list[str], data: dict) -> str:
    if images and model.kind != "vision":
        raise APIError(500, f'"{model.name}" does not support images')  # real: model has no vision
    options = data.get("options") or {}
    try:
        return generate_text(prompt, system, images, data.get("format") or None,
                             options.get("num_predict") if isinstance(options, dict) else None)
    except OCRError as exc:
        raise APIError(400, f"failed to process inputs: {exc}") from exc


# --- native API -------------------------------------------------------------------------------

async def root(request: Request) -> Response:
    return PlainTextResponse("Ollama is running")


async def version(request: Request) -> Response:
    return JSONResponse({"version": VERSION})


async def tags(request: Request) -> Response:
    return JSONResponse({"models": [tag_entry(m) for m in store.listing()]})


async def show(request: Request) -> Response:
    data = await body(request)
    name = model_name(data)
    manifest = store.get(name)
    if manifest is None:
        raise APIError(404, f"model '{name}' not found")
    model = store.model_of(manifest)
    arch = model.family
    return JSONResponse({
        "license": "stand-in: no weights, no license",
        "modelfile": f"# {BACKEND}\nFROM {model.name}\n",
        "parameters": "",
        "template": "{{ .Prompt }}",
        "details": details(model),
        "model_info": {"general.architecture": arch, "general.basename": "stackgate-standin",
                       f"{arch}.context_length": model.context_length,
                       f"{arch}.embedding_length": model.embedding_length},
        "capabilities": model.capabilities,
        "modified_at": manifest["modified_at"],
    })


REGISTRY = "https://registry.invalid"  # the stand-in's registry is its offline catalogue; this name never resolves


def registry_unreachable() -> bool:
    """OLLAMA_STANDIN_REGISTRY=unreachable: every pull fails as Ollama's does when its registry is down."""
    return os.environ.get("OLLAMA_STANDIN_REGISTRY", "reachable") == "unreachable"


async def pull(request: Request) -> Response:
    data = await body(request)
    name = model_name(data)
    stream = data.get("stream", True) is not False
    model = lookup(name)

    def progress() -> Iterator[dict]:
        yield {"status": "pulling manifest"}
        if registry_unreachable():
            yield {"error": f"pull model manifest: Get \"{REGISTRY}/v2/library/{name.split(':')[0]}/manifests/"
                            f"{name.split(':')[-1]}\": dial tcp: lookup registry: no such host "
                            "(stand-in: OLLAMA_STANDIN_REGISTRY=unreachable)"}
            return
        if model is None:
            yield {"error": "pull model manifest: file does not exist"}
            return
        manifest = store.pull(name)
        digest = "sha256:" + manifest["digest"]
        yield {"status": f"pulling {manifest['digest'][:12]}", "digest": digest,
               "total": manifest["size"], "completed": 0}
        yield {"status": f"pulling {manifest['digest'][:12]}", "digest": digest,
               "total": manifest["size"], "completed": manifest["size"]}
        yield {"status": "verifying sha256 digest"}
        yield {"status": "writing manifest"}
        yield {"status": "success"}

    if stream:
        return ndjson(progress())
    last = list(progress())[-1]
    if "error" in last:
        raise APIError(500, last["error"])
    return JSONResponse(last)


async def generate(request: Request) -> Response:
    data = await body(request)
    name = model_name(data)
    model = pulled(name, asked=data.get("model") or data.get("name"))
    if model.kind == "embedding":
        raise APIError(400, f'"{name}" does not support generate')
    prompt = data.get("prompt") or ""
    ka = keep_alive(data)
    started = time.perf_counter()
    base = {"model": name}
    if not prompt and not data.get("images"):
        LOADED.touch(name, ka)
        return JSONResponse({**base, "created_at": now_iso(), "response": "", "done": True,
                             "done_reason": "unload" if ka == 0 else "load"})
    out = run_inference(model, prompt, data.get("system") or "", data.get("images") or [], data)
    LOADED.touch(name, ka)
    final = {**base, "created_at": now_iso(), "response": "", "done": True, "done_reason": "stop",
             "context": [hash(t) % 32000 for t in tokens(prompt + " " + out)][:2048],
             **durations(prompt, out, started)}
    if data.get("stream", True) is False:
        return JSONResponse({**final, "response": out})
    pieces = ({**base, "created_at": now_iso(), "response": p, "done": False} for p in chunks(out))
    return ndjson(iter([*pieces, final]))


def flatten_messages(messages: list) -> tuple[str, str, list[str]]:
    """(prompt, system, images) of a chat: last user turn, earlier turns as context."""
    if not isinstance(messages, list):
        raise APIError(400, "messages must be a list")
    system = "\n".join(m.get("content", "") for m in messages if isinstance(m, dict) and m.get("role") == "system")
    turns = [m for m in messages if isinstance(m, dict) and m.get("role") != "system"]
    for m in turns:
        if m.get("role") not in ("user", "assistant", "tool"):
            raise APIError(400, f"invalid role: {m.get('role')}")
    images = [img for m in turns[-1:] for img in (m.get("images") or [])]
    earlier = "\n".join(m.get("content", "") for m in turns[:-1])
    last = turns[-1].get("content", "") if turns else ""
    prompt = f"{earlier}\n{last}".strip() if earlier else last
    return prompt, system, images


async def chat(request: Request) -> Response:
    data = await body(request)
    name = model_name(data)
    model = pulled(name, asked=data.get("model") or data.get("name"))
    if model.kind == "embedding":
        raise APIError(400, f'"{name}" does not support chat')
    prompt, system, images = flatten_messages(data.get("messages") or [])
    ka = keep_alive(data)
    started = time.perf_counter()
    if not data.get("messages"):
        LOADED.touch(name, ka)
        return JSONResponse({"model": name, "created_at": now_iso(),
                             "message": {"role": "assistant", "content": ""}, "done": True,
                             "done_reason": "unload" if ka == 0 else "load"})
    out = run_inference(model, prompt, system, images, data)
    LOADED.touch(name, ka)
    final = {"model": name, "created_at": now_iso(), "message": {"role": "assistant", "content": ""},
             "done": True, "done_reason": "stop", **durations(prompt, out, started)}
    if data.get("stream", True) is False:
        return JSONResponse({**final, "message": {"role": "assistant", "content": out}})
    pieces = ({"model": name, "created_at": now_iso(), "message": {"role": "assistant", "content": p},
               "done": False} for p in chunks(out))
    return ndjson(iter([*pieces, final]))


def embed_inputs(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return list(value)
    raise APIError(400, "invalid input type")


async def embed_api(request: Request) -> Response:
    data = await body(request)
    name = model_name(data)
    model = pulled(name, embed_style=True, asked=data.get("model") or data.get("name"))
    inputs = embed_inputs(data.get("input", []))
    started = time.perf_counter()
    dims = int(data.get("dimensions") or model.embedding_length)
    vectors = [embed(t, dims) for t in inputs]
    LOADED.touch(name, keep_alive(data))
    return JSONResponse({"model": name, "embeddings": vectors,
                         "total_duration": int((time.perf_counter() - started) * 1e9), "load_duration": 0,
                         "prompt_eval_count": sum(len(tokens(t)) for t in inputs)})


async def embeddings_legacy(request: Request) -> Response:
    data = await body(request)
    name = model_name(data)
    model = pulled(name, embed_style=True, asked=data.get("model") or data.get("name"))
    prompt = data.get("prompt") or ""
    LOADED.touch(name, keep_alive(data))
    return JSONResponse({"embedding": embed(prompt, model.embedding_length) if prompt else []})


async def ps(request: Request) -> Response:
    out = []
    for name, until in LOADED.current().items():
        manifest = store.get(name)
        if manifest is None:
            continue
        model = store.model_of(manifest)
        out.append({"name": name, "model": name, "size": manifest["size"], "digest": manifest["digest"],
                    "details": details(model),
                    "expires_at": datetime.fromtimestamp(until, UTC).isoformat(),
                    "size_vram": 0, "context_length": model.context_length})
    return JSONResponse({"models": out})


async def delete(request: Request) -> Response:
    data = await body(request)
    name = model_name(data)
    if not store.delete(name):
        raise APIError(404, f"model '{name}' not found")
    LOADED.touch(name, 0)
    return Response(status_code=200)


async def copy(request: Request) -> Response:
    data = await body(request)
    src, dst = data.get("source"), data.get("destination")
    if not src or not dst:
        raise APIError(400, "source and destination are required")
    manifest = store.get(src)
    if manifest is None:
        raise APIError(404, f"model '{normalise(src)}' not found")
    store.pull(manifest["model"], alias=dst)
    return Response(status_code=200)


# --- OpenAI-compatible API --------------------------------------------------------------------

def oa_error(status: int, message: str) -> JSONResponse:
    kind = "invalid_request_error" if status < 500 else "api_error"
    return JSONResponse({"error": {"message": message, "type": kind, "param": None, "code": None}},
                        status_code=status)


def oa_usage(prompt: str, out: str) -> dict:
    p, c = max(1, len(tokens(prompt))), max(1, len(tokens(out)))
    return {"prompt_tokens": p, "completion_tokens": c, "total_tokens": p + c}


def sse(events: Iterator[dict]) -> StreamingResponse:
    async def gen() -> AsyncIterator[bytes]:
        for event in events:
            yield f"data: {json.dumps(event)}\n\n".encode()
        yield b"data: [DONE]\n\n"
    return StreamingResponse(gen(), media_type="text/event-stream")


async def oa_chat(request: Request) -> Response:
    data = await body(request)
    name = model_name(data)
    model = pulled(name, embed_style=True, asked=data.get("model") or data.get("name"))
    if model.kind == "embedding":
        raise APIError(400, f'"{name}" does not support chat')
    messages = []
    for m in data.get("messages") or []:
        content = m.get("content")
        images: list[str] = []
        if isinstance(content, list):  # OpenAI content parts
            texts = [p.get("text", "") for p in content if p.get("type") == "text"]
            images = [p["image_url"]["url"].split(",", 1)[-1] for p in content
                      if p.get("type") == "image_url" and isinstance(p.get("image_url"), dict)]
            content = "\n".join(texts)
        messages.append({"role": m.get("role"), "content": content or "", "images": images})
    prompt, system, images = flatten_messages(messages)
    fmt = "json" if (data.get("response_format") or {}).get("type") == "json_object" else None
    out = run_inference(model, prompt, system, images, {"format": fmt, "options": {}})
    LOADED.touch(name)
    cid, created = f"chatcmpl-{uuid.uuid4().int % 1000}", int(time.time())
    common = {"id": cid, "created": created, "model": name, "system_fingerprint": "fp_ollama"}
    if data.get("stream"):
        events = [{**common, "object": "chat.completion.chunk",
                   "choices": [{"index": 0, "delta": {"role": "assistant", "content": p}, "finish_reason": None}]}
                  for p in chunks(out)]
        events.append({**common, "object": "chat.completion.chunk",
                       "choices": [{"index": 0, "delta": {"role": "assistant", "content": ""},
                                    "finish_reason": "stop"}]})
        return sse(iter(events))
    return JSONResponse({**common, "object": "chat.completion",
                         "choices": [{"index": 0, "message": {"role": "assistant", "content": out},
                                      "finish_reason": "stop"}], "usage": oa_usage(prompt, out)})


async def oa_completions(request: Request) -> Response:
    data = await body(request)
    name = model_name(data)
    model = pulled(name, embed_style=True, asked=data.get("model") or data.get("name"))
    if model.kind == "embedding":
        raise APIError(400, f'"{name}" does not support generate')
    prompt = data.get("prompt") or ""
    out = run_inference(model, prompt, "", [], {"options": {}})
    common = {"id": f"cmpl-{uuid.uuid4().int % 1000}", "created": int(time.time()), "model": name,
              "system_fingerprint": "fp_ollama"}
    if data.get("stream"):
        events = [{**common, "object": "text_completion",
                   "choices": [{"text": p, "index": 0, "finish_reason": None}]} for p in chunks(out)]
        events.append({**common, "object": "text_completion",
                       "choices": [{"text": "", "index": 0, "finish_reason": "stop"}]})
        return sse(iter(events))
    return JSONResponse({**common, "object": "text_completion",
                         "choices": [{"text": out, "index": 0, "finish_reason": "stop"}],
                         "usage": oa_usage(prompt, out)})


async def oa_embeddings(request: Request) -> Response:
    data = await body(request)
    name = model_name(data)
    model = pulled(name, embed_style=True, asked=data.get("model") or data.get("name"))
    inputs = embed_inputs(data.get("input", []))
    if not inputs:
        raise APIError(400, "invalid input")
    n = sum(len(tokens(t)) for t in inputs)
    return JSONResponse({"object": "list", "model": name,
                         "data": [{"object": "embedding", "embedding": embed(t, model.embedding_length),
                                   "index": i} for i, t in enumerate(inputs)],
                         "usage": {"prompt_tokens": n, "total_tokens": n}})


async def oa_models(request: Request) -> Response:
    return JSONResponse({"object": "list", "data": [
        {"id": m["name"], "object": "model", "created": int(datetime.fromisoformat(m["modified_at"]).timestamp()),
         "owned_by": "library"} for m in store.listing()]})


# --- wiring -----------------------------------------------------------------------------------

def handler(fn: Callable, openai: bool = False) -> Callable:
    async def wrapped(request: Request) -> Response:
        try:
            return await fn(request)
        except APIError as exc:
            if openai:
                return oa_error(exc.status, exc.message)
            return JSONResponse({"error": exc.message}, status_code=exc.status)
    return wrapped


ROUTES = [
    Route("/", handler(root), methods=["GET", "HEAD"]),
    Route("/api/version", handler(version), methods=["GET", "HEAD"]),
    Route("/api/tags", handler(tags), methods=["GET", "HEAD"]),
    Route("/api/show", handler(show), methods=["POST"]),
    Route("/api/pull", handler(pull), methods=["POST"]),
    Route("/api/generate", handler(generate), methods=["POST"]),
    Route("/api/chat", handler(chat), methods=["POST"]),
    Route("/api/embed", handler(embed_api), methods=["POST"]),
    Route("/api/embeddings", handler(embeddings_legacy), methods=["POST"]),
    Route("/api/ps", handler(ps), methods=["GET"]),
    Route("/api/delete", handler(delete), methods=["DELETE"]),
    Route("/api/copy", handler(copy), methods=["POST"]),
    Route("/v1/chat/completions", handler(oa_chat, True), methods=["POST"]),
    Route("/v1/completions", handler(oa_completions, True), methods=["POST"]),
    Route("/v1/embeddings", handler(oa_embeddings, True), methods=["POST"]),
    Route("/v1/models", handler(oa_models, True), methods=["GET"]),
]


class GinLog:
    """ASGI middleware: one `[GIN]` line on stdout per request, when its response has been sent."""

    def __init__(self, app: Callable, out=sys.stdout) -> None:
        self.app, self.out = app, out

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started, status = time.perf_counter(), [500]

        async def capture(message: dict) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, capture)
        finally:
            client = (scope.get("client") or ("-", 0))[0]
            line = gin_line(datetime.now(), status[0], time.perf_counter() - started, client,
                            scope["method"], scope["path"])
            print(line, file=self.out, flush=True)


def create_app() -> GinLog:
    """The stand-in's ASGI app, wrapped in the GIN access log."""
    return GinLog(Starlette(routes=ROUTES))
