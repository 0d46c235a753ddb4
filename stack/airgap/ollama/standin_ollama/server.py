"""Ollama's HTTP API (native + OpenAI-compatible) over the stand-in store and inference."""

from __future__ import annotations

import asyncio
import json
import os
import re
import sys
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import UTC, datetime
from typing import TextIO

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response, StreamingResponse
from starlette.routing import Route

from . import BACKEND, VERSION, adversary, engine, store
from .catalogue import Model, lookup
from .engine import Busy, Scheduler, Stats, stream_chat
from .gin import gin_line
from .infer import OCRError, embed, read_images, tokens
from .names import normalise

LOADED = store.Loaded()  # models answered without weights (images through tesseract, embeddings): for /api/ps
SCHED = Scheduler()  # models with weights: loaded llama.cpp contexts
ADVERSARY = adversary.mode()  # faults only: every text answer replaced by a plausible wrong one
MEMORY = adversary.Memory()  # the real answers given (the adversary's mode `other` hands them to other requests)


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


def weights_facts(label: str) -> tuple[str, str]:
    """(parameter size, quantization) named in a weights label such as 'SmolLM2-135M-Instruct Q4_1, …'."""
    size = re.search(r"(\d+(?:\.\d+)?[MB])\b", label)
    quant = re.search(r"\b(Q\d\w*|F16|F32|BF16)\b", label)
    return (size.group(1) if size else "unknown"), (quant.group(1) if quant else "unknown")


def parameter_count(label: str) -> int:
    """The parameter count a weights label names ('SmolLM2-135M-Instruct …' -> 135000000), as Ollama's
    general.parameter_count; 0 when it names none."""
    size = re.search(r"(\d+(?:\.\d+)?)([MB])\b", label)
    return int(float(size.group(1)) * (1e6 if size.group(2) == "M" else 1e9)) if size else 0


def details(model: Model, manifest: dict | None = None) -> dict:
    if manifest and manifest.get("weights"):
        size, quant = weights_facts(manifest["weights"])
        return {"parent_model": "", "format": "gguf", "family": model.family, "families": [model.family],
                "parameter_size": size, "quantization_level": quant}
    return {"parent_model": "", "format": "standin", "family": model.family, "families": [model.family],
            "parameter_size": "stand-in", "quantization_level": "stand-in"}


def serves(model: Model, manifest: dict) -> str:
    """What answers for a model name: its weights through llama.cpp (a vision name's text turns too), tesseract for
    images, hashed vectors for embeddings; a name pulled without weights generates nothing."""
    name = manifest["name"]
    if model.kind == "embedding":
        return f"{name} → hashed word/trigram vectors (deterministic, no model)"
    text = (f"{manifest['weights']} (llama.cpp)" if manifest.get("weights") else
            "no weights: every text request is an error")
    if model.kind == "vision":
        return f"{name} → text turns: {text}; images: tesseract OCR (a real OCR engine, no vision model)"
    return f"{name} → {text}"


def missing_weights(name: str, manifest: dict) -> str | None:
    """Why a model cannot generate text (Ollama's words where it has them), or None when its weights are there."""
    layers = [la for la in manifest.get("layers") or [] if la.get("mediaType") == store.MODEL_LAYER]
    if not layers:
        return (f'model "{name}" has no weights: this image carries none ({engine.WEIGHTS_ENV} unset when it was '
                "pulled); the stand-in never invents text")
    if store.weights_blob(manifest) is None:
        return f"open {store.models_dir() / 'blobs' / layers[0]['digest'].replace(':', '-')}: no such file or directory"
    return None


def tag_entry(manifest: dict) -> dict:
    model = store.model_of(manifest)
    return {"name": manifest["name"], "model": manifest["name"], "modified_at": manifest["modified_at"],
            "size": manifest["size"], "digest": manifest["digest"], "details": details(model, manifest)}


def final_counts(stats: Stats, started: float) -> dict:
    """Ollama's counts and durations (ns) of a finished answer."""
    return {"total_duration": int((time.perf_counter() - started) * 1e9), "load_duration": stats.load_duration,
            "prompt_eval_count": stats.prompt_eval_count, "prompt_eval_duration": stats.prompt_eval_duration,
            "eval_count": stats.eval_count, "eval_duration": stats.eval_duration}


def ndjson(items: AsyncIterator[dict]) -> StreamingResponse:
    """A streamed NDJSON answer; an error part-way ends it with Ollama's {"error": ...} line."""
    async def gen() -> AsyncIterator[bytes]:
        try:
            async for item in items:
                yield (json.dumps(item) + "\n").encode()
        except Exception as exc:  # noqa: BLE001 - the stream is already 200: the error goes in-band
            yield (json.dumps({"error": f"{type(exc).__name__}: {exc}"}) + "\n").encode()
    return StreamingResponse(gen(), media_type="application/x-ndjson")


async def whole(request: Request, pieces: AsyncIterator[str]) -> str:
    """An answer's pieces joined; APIError 499 "request canceled" when the client goes away first: Ollama cancels
    the request of a closed connection (queued or generating) and answers so, its slot freed for the next one."""
    async def joined() -> str:
        return "".join([p async for p in pieces])

    async def gone() -> None:
        while (await request.receive())["type"] != "http.disconnect":
            pass

    reading, watching = asyncio.ensure_future(joined()), asyncio.ensure_future(gone())
    try:
        await asyncio.wait({reading, watching}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        watching.cancel()
    if reading.done() or watching.cancelled() or watching.exception() is not None:
        return await reading  # read to its end: only a disconnect cancels it
    reading.cancel()
    await asyncio.gather(reading, return_exceptions=True)
    raise APIError(499, "request canceled")


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


def read_turn_images(images: list[str], data: dict) -> str:
    """A vision turn's answer: the text tesseract reads in its images."""
    options = data.get("options") or {}
    try:
        return read_images(images, options.get("num_predict") if isinstance(options, dict) else None)
    except OCRError as exc:
        raise APIError(400, f"failed to process inputs: {exc}") from exc


async def answer(name: str, manifest: dict, turns: list[dict], system: str, data: dict,
                 ka: float) -> tuple[AsyncIterator[str], Stats]:
    """The pieces of a model's answer to a conversation (streamed as produced) and its counts, filled in
    when the pieces have all been read. A model with weights answers through llama.cpp (queued per
    OLLAMA_NUM_PARALLEL / OLLAMA_MAX_QUEUE); a vision turn with images is read by tesseract; a model whose weights
    are missing answers with an error, never with invented text."""
    model = store.model_of(manifest)
    images = [img for t in turns[-1:] for img in (t.get("images") or [])]
    if images and model.kind != "vision":
        raise APIError(500, f'"{model.name}" does not support images')  # real: the model has no vision
    options = data.get("options") if isinstance(data.get("options"), dict) else {}
    blob = store.weights_blob(manifest)
    if not images:
        problem = missing_weights(name, manifest)
        if problem is not None:
            raise APIError(500, problem)
        messages = ([{"role": "system", "content": system}] if system else []) + \
                   [{"role": t.get("role", "user"), "content": t.get("content", "")} for t in turns]
        try:
            SCHED.check_queue()  # a full queue is a 503 before any part of the answer is sent
        except Busy as exc:
            raise APIError(503, str(exc)) from exc
        stats = Stats()

        async def produced() -> AsyncIterator[str]:
            # the slot is taken here, when the answer is read, so an answer never read holds no slot
            ctx, stats.load_duration = await SCHED.acquire(name, blob, threads_of(manifest, options))
            async for piece in stream_chat(ctx, messages, data.get("format") or None, options, stats,
                                           done=lambda: SCHED.release(name, ctx, ka)):
                yield piece
        if ADVERSARY:
            return await wrong(name, messages, data.get("format") or None, produced), stats
        return produced(), stats
    prompt, system, _ = flatten_messages([*turns], system)
    t0 = time.perf_counter()
    out = await asyncio.to_thread(read_turn_images, images, data)  # tesseract: off the loop
    LOADED.touch(name, ka)
    spent = int((time.perf_counter() - t0) * 1e9)
    stats = Stats(prompt_eval_count=max(1, len(tokens(prompt))), prompt_eval_duration=spent // 2,
                  eval_count=max(1, len(tokens(out))), eval_duration=spent - spent // 2)
    return spoken(out), stats


async def wrong(name: str, messages: list[dict], fmt: object,
                real: Callable[[], AsyncIterator[str]]) -> AsyncIterator[str]:
    """The adversary's answer (OLLAMA_STANDIN_ADVERSARY): mode `other` first lets the model answer for real, keeps
    that answer and hands back another request's of the same kind (the real one when it has none yet)."""
    r = adversary.rng()
    if ADVERSARY == "other":
        text = "".join([p async for p in real()])
        key, prompt = adversary.kind(messages, fmt) + name, adversary.last_user(messages)
        MEMORY.remember(key, prompt, text)
        out = MEMORY.other(key, prompt, r) or text
    else:
        out = adversary.formatted(adversary.wrong_text(ADVERSARY, messages, r), fmt, r)
    return spoken(out)


async def spoken(text: str) -> AsyncIterator[str]:
    """A finished answer streamed as Ollama streams one: word by word."""
    for piece in chunks(text):
        yield piece


def threads_of(manifest: dict, options: dict) -> int:
    """The llama.cpp thread count of a request: its options, the model's parameters, else the host's cores."""
    return engine.threads(manifest.get("parameters"), options)


async def load_only(name: str, manifest: dict, ka: float) -> None:
    """An empty prompt: load the model (or, with keep_alive 0, unload it), as Ollama does."""
    blob = store.weights_blob(manifest)
    problem = missing_weights(name, manifest)
    if problem is not None and (store.model_of(manifest).kind == "llm" or manifest.get("layers")):
        raise APIError(500, problem)  # an LLM without weights, or a model whose declared weights are gone
    if blob is None:
        LOADED.touch(name, ka)
    elif ka == 0:
        SCHED.unload(name)
    else:
        try:
            ctx, _ = await SCHED.acquire(name, blob, threads_of(manifest, {}))
        except Busy as exc:
            raise APIError(503, str(exc)) from exc
        await SCHED.release(name, ctx, ka)


def served(name: str, data: dict, refuse: str, embed_style: bool = False) -> dict:
    """The manifest of a pulled model that can answer `refuse` (generate/chat), or Ollama's error."""
    pulled(name, embed_style=embed_style, asked=data.get("model") or data.get("name"))
    manifest = store.get(name)
    if store.model_of(manifest).kind == "embedding":
        raise APIError(400, f'"{name}" does not support {refuse}')
    return manifest


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
    weighted = bool(manifest.get("weights"))
    if weighted and store.weights_blob(manifest) is None:  # Ollama reads the GGUF to answer: a missing blob is a 500
        raise APIError(500, missing_weights(name, manifest) or "weights missing")
    return JSONResponse({
        "license": (f"stand-in weights: {manifest['weights']} (Apache-2.0) answer for {name}" if weighted
                    else "stand-in: no weights, no license"),
        "modelfile": f"# {BACKEND}\n# {serves(model, manifest)}\nFROM {model.name}\n",
        "parameters": "\n".join([*([f"num_ctx {engine.N_CTX}", f"num_predict {engine.NUM_PREDICT_CAP}"] if weighted
                                     else []), *(f"{k} {v}" for k, v in (manifest.get("parameters") or {}).items())]),
        "template": "{{ .Prompt }}",
        "details": details(model, manifest),
        "model_info": {"general.architecture": arch,
                       "general.basename": manifest["weights"].split(",")[0] if weighted else "stackgate-standin",
                       **({"general.parameter_count": parameter_count(manifest["weights"])} if weighted else {}),
                       f"{arch}.context_length": engine.N_CTX if weighted else model.context_length,
                       f"{arch}.embedding_length": model.embedding_length,
                       "stackgate.serves": serves(model, manifest)},
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
        async def parts() -> AsyncIterator[dict]:
            for item in progress():
                yield item
        return ndjson(parts())
    last = list(progress())[-1]
    if "error" in last:
        raise APIError(500, last["error"])
    return JSONResponse(last)


async def generate(request: Request) -> Response:
    data = await body(request)
    name = model_name(data)
    manifest = served(name, data, "generate")
    prompt = data.get("prompt") or ""
    ka = keep_alive(data)
    started = time.perf_counter()
    base = {"model": name}
    if not prompt and not data.get("images"):
        await load_only(name, manifest, ka)
        return JSONResponse({**base, "created_at": now_iso(), "response": "", "done": True,
                             "done_reason": "unload" if ka == 0 else "load"})
    turns = [{"role": "user", "content": prompt, "images": data.get("images") or []}]
    pieces, stats = await answer(name, manifest, turns, data.get("system") or "", data, ka)

    def final(text: str = "") -> dict:
        return {**base, "created_at": now_iso(), "response": text, "done": True, "done_reason": stats.done_reason,
                "context": [hash(t) % 32000 for t in tokens(prompt)][:2048], **final_counts(stats, started)}

    if data.get("stream", True) is False:
        return JSONResponse(final(await whole(request, pieces)))

    async def parts() -> AsyncIterator[dict]:
        async for p in pieces:
            yield {**base, "created_at": now_iso(), "response": p, "done": False}
        yield final()
    return ndjson(parts())


def flatten_messages(messages: list, system: str = "") -> tuple[str, str, list[str]]:
    """(prompt, system, images) of a chat: last user turn, earlier turns as context."""
    if not isinstance(messages, list):
        raise APIError(400, "messages must be a list")
    system = "\n".join([system] * bool(system) + [m.get("content", "") for m in messages
                                                   if isinstance(m, dict) and m.get("role") == "system"])
    turns = [m for m in messages if isinstance(m, dict) and m.get("role") != "system"]
    for m in turns:
        if m.get("role") not in ("user", "assistant", "tool"):
            raise APIError(400, f"invalid role: {m.get('role')}")
    images = [img for m in turns[-1:] for img in (m.get("images") or [])]
    earlier = "\n".join(m.get("content", "") for m in turns[:-1])
    last = turns[-1].get("content", "") if turns else ""
    prompt = f"{earlier}\n{last}".strip() if earlier else last
    return prompt, system, images


def split_system(messages: list) -> tuple[list[dict], str]:
    """(the turns, the system prompt) of a chat, roles checked as Ollama does."""
    flatten_messages(messages)  # validates
    system = "\n".join(m.get("content", "") for m in messages if m.get("role") == "system")
    return [m for m in messages if m.get("role") != "system"], system


async def chat(request: Request) -> Response:
    data = await body(request)
    name = model_name(data)
    manifest = served(name, data, "chat")
    ka = keep_alive(data)
    started = time.perf_counter()
    if not data.get("messages"):
        await load_only(name, manifest, ka)
        return JSONResponse({"model": name, "created_at": now_iso(),
                             "message": {"role": "assistant", "content": ""}, "done": True,
                             "done_reason": "unload" if ka == 0 else "load"})
    turns, system = split_system(data.get("messages") or [])
    pieces, stats = await answer(name, manifest, turns, system, data, ka)

    def final(text: str = "") -> dict:
        return {"model": name, "created_at": now_iso(), "message": {"role": "assistant", "content": text},
                "done": True, "done_reason": stats.done_reason, **final_counts(stats, started)}

    if data.get("stream", True) is False:
        return JSONResponse(final(await whole(request, pieces)))

    async def parts() -> AsyncIterator[dict]:
        async for p in pieces:
            yield {"model": name, "created_at": now_iso(), "message": {"role": "assistant", "content": p},
                   "done": False}
        yield final()
    return ndjson(parts())


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
    loaded = {**LOADED.current(), **{n: r.expires_at for n, r in SCHED.loaded().items()}}
    runners = SCHED.loaded()
    for name, until in loaded.items():
        manifest = store.get(name)
        if manifest is None:
            continue
        model = store.model_of(manifest)
        until = min(until, time.time() + 100 * 365 * 86400)  # a negative keep_alive: "forever"
        out.append({"name": name, "model": name, "size": manifest["size"], "digest": manifest["digest"],
                    "details": details(model, manifest),
                    "expires_at": datetime.fromtimestamp(until, UTC).isoformat(),
                    "size_vram": 0,
                    "context_length": engine.N_CTX if manifest.get("weights") else model.context_length,
                    # a stand-in field (Ollama has none): the llama.cpp threads the loaded model runs with
                    **({"standin_num_thread": runners[name].threads} if name in runners else {})})
    return JSONResponse({"models": out})


async def delete(request: Request) -> Response:
    data = await body(request)
    name = model_name(data)
    if not store.delete(name):
        raise APIError(404, f"model '{name}' not found")
    LOADED.touch(name, 0)
    SCHED.unload(name)
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


async def create(request: Request) -> Response:
    """Ollama's /api/create (0.9.0's JSON form, what `ollama create -f Modelfile` sends): `from` an existing model,
    with `parameters`; the new manifest shares the model's layers. Other Modelfile parts are not supported."""
    data = await body(request)
    name, src = data.get("model") or data.get("name"), data.get("from")
    if not name or not src:
        raise APIError(400, "model and from are required (the stand-in creates only from an existing model)")
    base = store.get(src)
    if base is None:
        raise APIError(404, f"model '{normalise(src)}' not found")
    params = data.get("parameters") or {}
    if not isinstance(params, dict):
        raise APIError(400, "parameters must be an object")
    store.create(name, base, params)
    SCHED.unload(normalise(name))  # a changed model is loaded again with its new parameters
    if data.get("stream", True) is False:
        return JSONResponse({"status": "success"})

    async def parts() -> AsyncIterator[dict]:
        for status in ("using existing layers", "writing manifest", "success"):
            yield {"status": status}
    return ndjson(parts())


# --- OpenAI-compatible API --------------------------------------------------------------------

def oa_error(status: int, message: str) -> JSONResponse:
    kind = "invalid_request_error" if status < 500 else "api_error"
    return JSONResponse({"error": {"message": message, "type": kind, "param": None, "code": None}},
                        status_code=status)


def oa_usage(stats: Stats) -> dict:
    p, c = stats.prompt_eval_count, stats.eval_count
    return {"prompt_tokens": p, "completion_tokens": c, "total_tokens": p + c}


def sse(events: AsyncIterator[dict]) -> StreamingResponse:
    """Server-sent events ending in `data: [DONE]`, as Ollama's OpenAI endpoints send them."""
    async def gen() -> AsyncIterator[bytes]:
        try:
            async for event in events:
                yield f"data: {json.dumps(event)}\n\n".encode()
        except Exception as exc:  # noqa: BLE001 - in-band, as the stream has begun
            yield f"data: {json.dumps({'error': {'message': str(exc), 'type': 'api_error'}})}\n\n".encode()
        yield b"data: [DONE]\n\n"
    return StreamingResponse(gen(), media_type="text/event-stream")


def oa_options(data: dict) -> dict:
    """Ollama's options for an OpenAI request's sampling fields."""
    out = {"temperature": data.get("temperature", 1.0), "top_p": data.get("top_p", 1.0)}
    if data.get("max_tokens") is not None or data.get("max_completion_tokens") is not None:
        out["num_predict"] = data.get("max_completion_tokens") or data.get("max_tokens")
    if data.get("seed") is not None:
        out["seed"] = data["seed"]
    if data.get("stop"):
        out["stop"] = [data["stop"]] if isinstance(data["stop"], str) else data["stop"]
    return out


def oa_format(data: dict) -> str | dict | None:
    rf = data.get("response_format") or {}
    if rf.get("type") == "json_object":
        return "json"
    if rf.get("type") == "json_schema":
        return (rf.get("json_schema") or {}).get("schema") or "json"
    return None


async def oa_answer(request: Request, turns_of: Callable[[dict], tuple[list[dict], str]], kind: str) -> Response:
    """An OpenAI chat or text completion (kind "chat.completion" / "text_completion"), streamed or whole."""
    data = await body(request)
    name = model_name(data)
    manifest = served(name, data, "chat" if kind == "chat.completion" else "generate", embed_style=True)
    turns, system = turns_of(data)
    pieces, stats = await answer(name, manifest, turns, system,
                                 {"format": oa_format(data), "options": oa_options(data)}, 300.0)
    prefix = "chatcmpl" if kind == "chat.completion" else "cmpl"
    common = {"id": f"{prefix}-{uuid.uuid4().hex[:12]}", "created": int(time.time()), "model": name,
              "system_fingerprint": "fp_ollama"}

    def choice(text: str, finish: str | None, delta: bool) -> dict:
        if kind == "text_completion":
            return {"text": text, "index": 0, "finish_reason": finish}
        if delta:
            return {"index": 0, "delta": {"role": "assistant", "content": text}, "finish_reason": finish}
        return {"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": finish}

    finish = lambda: "length" if stats.done_reason == "length" else "stop"  # noqa: E731
    if data.get("stream"):
        obj = "chat.completion.chunk" if kind == "chat.completion" else "text_completion"
        options_of_stream = data.get("stream_options")
        want_usage = isinstance(options_of_stream, dict) and bool(options_of_stream.get("include_usage"))

        async def events() -> AsyncIterator[dict]:
            async for p in pieces:
                yield {**common, "object": obj, "choices": [choice(p, None, True)]}
            yield {**common, "object": obj, "choices": [choice("", finish(), True)]}
            if want_usage:
                yield {**common, "object": obj, "choices": [], "usage": oa_usage(stats)}
        return sse(events())
    text = await whole(request, pieces)
    return JSONResponse({**common, "object": kind, "choices": [choice(text, finish(), False)],
                         "usage": oa_usage(stats)})


def oa_turns(data: dict) -> tuple[list[dict], str]:
    """The turns and system prompt of an OpenAI chat request (content parts: text and data-URL images)."""
    messages = []
    for m in data.get("messages") or []:
        if not isinstance(m, dict):
            raise APIError(400, "invalid message")
        content = m.get("content")
        images: list[str] = []
        if isinstance(content, list):  # OpenAI content parts
            texts = [p.get("text", "") for p in content if p.get("type") == "text"]
            images = [p["image_url"]["url"].split(",", 1)[-1] for p in content
                      if p.get("type") == "image_url" and isinstance(p.get("image_url"), dict)]
            content = "\n".join(texts)
        messages.append({"role": m.get("role"), "content": content or "", "images": images})
    if not messages:
        raise APIError(400, "[] is too short - 'messages'")
    return split_system(messages)


def oa_prompt(data: dict) -> tuple[list[dict], str]:
    prompt = data.get("prompt")
    if not isinstance(prompt, str):
        raise APIError(400, "prompt must be a string")
    return [{"role": "user", "content": prompt}], ""


async def oa_chat(request: Request) -> Response:
    return await oa_answer(request, oa_turns, "chat.completion")


async def oa_completions(request: Request) -> Response:
    return await oa_answer(request, oa_prompt, "text_completion")


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
    Route("/api/create", handler(create), methods=["POST"]),
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


def own_stdout() -> TextIO:
    """The process's stdout through a descriptor of its own (a dup of fd 1). llama-cpp-python (verbose off) points
    fd 1 and sys.stdout at /dev/null while it loads a model, process-wide: an access line another request
    printed then was lost (seen: the simple stack's OCR requests missing from its log while the LLM loaded)."""
    try:
        return os.fdopen(os.dup(sys.stdout.fileno()), "w", buffering=1)
    except (OSError, ValueError, AttributeError):  # no descriptor (e.g. a captured stdout in a test)
        return sys.stdout


def create_app() -> GinLog:
    """The stand-in's ASGI app, wrapped in the GIN access log."""
    return GinLog(Starlette(routes=ROUTES), out=own_stdout())
