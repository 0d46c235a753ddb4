"""Real inference for every text turn: llama.cpp (llama-cpp-python) over real GGUF weights, with Ollama's scheduling.

The weights are stand-in weights (a small model answers for every LLM name of the catalogue, and for a vision
name's text turns): the engine is real (it phrases, errs, takes time and competes for CPU), the names are not.
Images are read by tesseract and embeddings stay hashed (see infer.py).

Scheduling as Ollama's: a model loads on first use (load_duration is real), stays loaded for keep_alive
(0 unloads after the request, a negative value keeps it), OLLAMA_NUM_PARALLEL requests run at once per model
(one llama.cpp context per slot), and past OLLAMA_MAX_QUEUE waiting requests a request gets Ollama's 503.
"""

from __future__ import annotations

import asyncio
import os
import threading
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path

WEIGHTS_ENV = "OLLAMA_STANDIN_WEIGHTS"  # the GGUF this image carries (the local copy a pull stores as a blob)
WEIGHTS_NAME_ENV = "OLLAMA_STANDIN_WEIGHTS_NAME"  # e.g. "SmolLM2-135M-Instruct Q4_1"
GRAMMAR_ENV = "OLLAMA_STANDIN_GRAMMAR"  # "off": formats are ignored (a fault: free JSON)
BUSY = "server busy, please try again.  maximum pending requests exceeded"  # Ollama's ErrMaxQueue
N_CTX = int(os.environ.get("OLLAMA_CONTEXT_LENGTH", "2048"))
# The KV states of earlier prompts, kept in RAM per context: a prompt that shares its start with one seen before
# (a service's instruction and worked examples) decodes only the rest. Ollama 0.9.0 reuses the one prefix its slot
# holds; on a GPU a prompt's decode costs milliseconds, on the stand-in's one CPU it is most of an answer's time
PROMPT_CACHE_ENV = "OLLAMA_STANDIN_PROMPT_CACHE_MB"
NUM_PREDICT_CAP = int(os.environ.get("OLLAMA_STANDIN_NUM_PREDICT", "256"))  # when a request sets none


class Busy(Exception):
    """More requests wait than OLLAMA_MAX_QUEUE allows."""


@dataclass(frozen=True)
class Weights:
    """The GGUF a pull stores and the engine loads, and the name the reports give it."""

    path: Path
    name: str

    @property
    def label(self) -> str:
        return f"{self.name}, stand-in weights"


def local_weights() -> Weights | None:
    """The weights this image carries ($OLLAMA_STANDIN_WEIGHTS), or None when it carries none."""
    raw = os.environ.get(WEIGHTS_ENV, "")
    if not raw or not Path(raw).is_file():
        return None
    name = os.environ.get(WEIGHTS_NAME_ENV) or Path(raw).stem
    return Weights(Path(raw), name)


def grammar_on() -> bool:
    """False when OLLAMA_STANDIN_GRAMMAR=off: format requests are not constrained (a fault to be caught)."""
    return os.environ.get(GRAMMAR_ENV, "on") != "off"


def threads(parameters: dict | None = None, options: dict | None = None) -> int:
    """CPU threads of a llama.cpp context, as Ollama 0.9.0 picks them: the request's `options.num_thread`, else
    the model's `PARAMETER num_thread`, else the host's core count (NOT the container's cpuset or CPU quota:
    that is what the stack's entrypoints must correct, and the stand-in must not hide)."""
    for source in (options or {}, parameters or {}):
        value = source.get("num_thread")
        if value not in (None, "", 0):
            return max(1, int(value))
    return max(1, os.cpu_count() or 1)


def response_format(fmt: str | dict | None) -> dict | None:
    """llama-cpp-python's response_format for Ollama's `format` ("json" or a JSON schema), grammar-constrained."""
    if fmt is None or fmt == "" or not grammar_on():
        return None
    if fmt == "json":
        return {"type": "json_object"}
    if isinstance(fmt, dict):
        return {"type": "json_object", "schema": fmt}
    return None


def sampling(options: dict) -> dict:
    """llama-cpp-python's sampling arguments for Ollama's options (Ollama's defaults where unset)."""
    num_predict = options.get("num_predict")
    out = {"temperature": float(options.get("temperature", 0.8)), "top_p": float(options.get("top_p", 0.9)),
           "top_k": int(options.get("top_k", 40)), "repeat_penalty": float(options.get("repeat_penalty", 1.1)),
           "max_tokens": NUM_PREDICT_CAP if num_predict in (None, -1, -2) else max(1, int(num_predict))}
    if options.get("seed") is not None:
        out["seed"] = int(options["seed"])
    if options.get("stop"):
        out["stop"] = list(options["stop"])
    return out


@dataclass
class Stats:
    """What one generation measured, in Ollama's terms (nanoseconds)."""

    prompt_eval_count: int = 0
    prompt_eval_duration: int = 0
    eval_count: int = 0
    eval_duration: int = 0
    load_duration: int = 0
    done_reason: str = "stop"


@dataclass
class Runner:
    """One loaded model: a llama.cpp context per parallel slot, and when it expires."""

    name: str
    contexts: list = field(default_factory=list)
    free: list = field(default_factory=list)
    expires_at: float = 0.0  # epoch seconds; inf = never
    size: int = 0
    busy: int = 0
    threads: int = 1  # llama.cpp n_threads of its contexts (reported by /api/ps as standin_num_thread)
    used_at: float = 0.0  # the last time a request took a slot (the least recently used is evicted first)


class Scheduler:
    """Loads, shares, queues and unloads llama.cpp contexts per model name, as Ollama's scheduler does."""

    def __init__(self, loader: Callable[[Path], object] | None = None) -> None:
        self.num_parallel = max(1, int(os.environ.get("OLLAMA_NUM_PARALLEL", "1")))
        self.max_loaded = max(1, int(os.environ.get("OLLAMA_MAX_LOADED_MODELS", "3")))  # Ollama's CPU default: 3
        self.max_queue = max(0, int(os.environ.get("OLLAMA_MAX_QUEUE", "512")))
        self.loader = loader or load_llama
        self.runners: dict[str, Runner] = {}
        self.waiting = 0
        self.cond: asyncio.Condition | None = None

    def _condition(self) -> asyncio.Condition:
        if self.cond is None:
            self.cond = asyncio.Condition()
        return self.cond

    async def acquire(self, name: str, blob: Path, n_threads: int = 1) -> tuple[object, int]:
        """A free context of name (loading the model first if needed, or again when an idle one was loaded with
        another thread count, as Ollama reloads a runner whose options changed) and the load time it cost (ns).
        Past OLLAMA_MAX_LOADED_MODELS the least recently used idle model is unloaded first."""
        cond = self._condition()
        if self.waiting >= self.max_queue:
            raise Busy(BUSY)
        self.waiting += 1
        try:
            async with cond:
                runner = self.runners.get(name)
                load_ns = 0
                if runner is not None and runner.threads != n_threads and runner.busy == 0:
                    self._drop(name)
                    runner = None
                if runner is None:
                    self._make_room()
                    t0 = time.perf_counter()
                    contexts = await asyncio.to_thread(
                        lambda: [self.loader(blob, n_threads) for _ in range(self.num_parallel)])
                    load_ns = int((time.perf_counter() - t0) * 1e9)
                    runner = Runner(name, contexts, list(contexts), float("inf"), blob.stat().st_size, threads=n_threads)
                    self.runners[name] = runner
                await cond.wait_for(lambda: bool(runner.free))
                self.runners[name] = runner  # kept, even if it expired while this request waited
                ctx = runner.free.pop()
                runner.busy += 1
                runner.used_at = time.monotonic()
                runner.expires_at = float("inf")
                return ctx, load_ns
        finally:
            self.waiting -= 1

    async def release(self, name: str, ctx: object, keep_alive: float) -> None:
        """Give ctx back; the model stays loaded keep_alive seconds after its last request (0: unload now)."""
        cond = self._condition()
        async with cond:
            runner = self.runners.get(name)
            if runner is None:
                return
            runner.free.append(ctx)
            runner.busy -= 1
            if runner.busy == 0:
                runner.expires_at = float("inf") if keep_alive < 0 else time.time() + keep_alive
            cond.notify_all()
        self.expire()

    def touch(self, name: str, keep_alive: float) -> None:
        """A request that only sets keep_alive (empty prompt): 0 unloads an idle model now."""
        runner = self.runners.get(name)
        if runner is not None and runner.busy == 0:
            runner.expires_at = float("inf") if keep_alive < 0 else time.time() + keep_alive
        self.expire()

    def check_queue(self) -> None:
        """Busy (Ollama's 503) when OLLAMA_MAX_QUEUE requests already wait: checked before a stream begins."""
        if self.waiting >= self.max_queue:
            raise Busy(BUSY)

    def _drop(self, name: str) -> None:
        runner = self.runners.pop(name)
        for ctx in runner.contexts:
            close = getattr(ctx, "close", None)
            if close:
                close()

    def _make_room(self) -> None:
        """Unload idle models, least recently used first, until one more fits OLLAMA_MAX_LOADED_MODELS."""
        idle = sorted((r for r in self.runners.values() if r.busy == 0), key=lambda r: r.used_at)
        while len(self.runners) >= self.max_loaded and idle:
            self._drop(idle.pop(0).name)

    def expire(self) -> None:
        """Unload every idle model whose keep_alive has run out (never while a request waits for a slot)."""
        if self.waiting:
            return
        now = time.time()
        for name, runner in list(self.runners.items()):
            if runner.busy == 0 and runner.expires_at <= now:
                self._drop(name)

    def loaded(self) -> dict[str, Runner]:
        """name -> runner of the models in memory now (for /api/ps)."""
        self.expire()
        return dict(self.runners)

    def unload(self, name: str) -> None:
        """Drop name now if it is idle (a delete)."""
        runner = self.runners.get(name)
        if runner is not None and runner.busy == 0:
            runner.expires_at = 0
        self.expire()


def load_llama(blob: Path, n_threads: int = 1) -> object:
    """A llama.cpp context over the GGUF blob with n_threads (imported here: the vision-only paths never need it),
    with a RAM cache of earlier prompts' KV states ($OLLAMA_STANDIN_PROMPT_CACHE_MB, default 256; 0 = none)."""
    import ctypes

    import llama_cpp
    import numpy as np
    from llama_cpp import Llama, LlamaRAMCache, LlamaState

    class PromptCachingLlama(Llama):
        """Saves and restores the KV state only: with logits_all off the scores are never read after a restore
        (llama-cpp-python decodes the last prompt token again first), and the base class copies them (~100 MB)."""

        def save_state(self) -> LlamaState:
            size = llama_cpp.llama_state_get_size(self._ctx.ctx)
            data = (ctypes.c_uint8 * int(size))()
            n = int(llama_cpp.llama_state_get_data(self._ctx.ctx, data, size))
            if not 0 < n <= int(size):
                raise RuntimeError(f"llama.cpp saved {n} bytes of a {size}-byte state")
            return LlamaState(input_ids=self.input_ids.copy(), scores=np.empty((0, 0), dtype=np.single),
                              n_tokens=self.n_tokens, llama_state=ctypes.string_at(data, n), llama_state_size=n,
                              seed=self._seed)

        def load_state(self, state: LlamaState) -> None:
            size = state.llama_state_size
            data = (ctypes.c_uint8 * size).from_buffer_copy(state.llama_state)
            if size <= 0 or llama_cpp.llama_state_set_data(self._ctx.ctx, data, size) != size:
                self.reset()  # nothing of the cached prompt is assumed to be in the context
                raise RuntimeError("llama.cpp did not take the cached state back")
            self.input_ids = state.input_ids.copy()
            self.n_tokens = state.n_tokens
            self._requires_eval = True
            self._seed = state.seed

    llm = PromptCachingLlama(model_path=str(blob), n_ctx=N_CTX, n_threads=n_threads, n_threads_batch=n_threads,
                             verbose=False, seed=0)
    mb = int(os.environ.get(PROMPT_CACHE_ENV, "256"))
    if mb > 0:
        llm.set_cache(LlamaRAMCache(capacity_bytes=mb << 20))
    return llm


async def stream_chat(ctx: object, messages: list[dict], fmt: str | dict | None, options: dict,
                      stats: Stats, done: Callable[[], object] | None = None) -> AsyncIterator[str]:
    """Token pieces of a chat completion as llama.cpp produces them; stats filled in when it ends. `done()`
    (a coroutine: the slot's release) runs once the generating thread has stopped, even when the request
    is cancelled (a client that went away), so a context is never handed on while a thread still uses it."""
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue = asyncio.Queue()
    stop = threading.Event()
    end = object()

    def work() -> None:
        t0 = time.perf_counter()
        first: float | None = None
        pieces = 0
        try:
            kwargs = {"messages": messages, "stream": True, **sampling(options)}
            rf = response_format(fmt)
            if rf is not None:
                kwargs["response_format"] = rf
            for chunk in ctx.create_chat_completion(**kwargs):
                choice = chunk["choices"][0]
                piece = choice.get("delta", {}).get("content")
                if piece:
                    if first is None:
                        first = time.perf_counter()
                    pieces += 1
                    loop.call_soon_threadsafe(queue.put_nowait, piece)
                if choice.get("finish_reason"):
                    stats.done_reason = "length" if choice["finish_reason"] == "length" else "stop"
                if stop.is_set():
                    break
            t1 = time.perf_counter()
            first = first or t1
            stats.eval_count = pieces
            stats.prompt_eval_count = max(1, int(getattr(ctx, "n_tokens", 0)) - pieces)
            stats.prompt_eval_duration = int((first - t0) * 1e9)
            stats.eval_duration = int((t1 - first) * 1e9)
            loop.call_soon_threadsafe(queue.put_nowait, end)
        except Exception as exc:  # noqa: BLE001 - handed to the request
            loop.call_soon_threadsafe(queue.put_nowait, exc)

    worker = asyncio.get_running_loop().run_in_executor(None, work)

    async def finish() -> None:
        try:
            await worker
        finally:
            if done is not None:
                await done()

    try:
        while True:
            item = await queue.get()
            if item is end:
                break
            if isinstance(item, Exception):
                raise item
            yield item
    finally:
        stop.set()
        closing = asyncio.ensure_future(finish())
        try:
            await asyncio.shield(closing)
        except asyncio.CancelledError:
            pass  # `closing` goes on: the slot is released when the thread has stopped
