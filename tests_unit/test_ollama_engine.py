"""The stand-in's engine side: Ollama's scheduling over llama.cpp contexts (a fake loader here), weights stored as
blobs by a pull, formats turned into grammar-constrained response formats, and /api/show naming the weights."""

from __future__ import annotations

import asyncio
import time

import pytest

from standin_ollama import engine, store


@pytest.fixture
def blob(tmp_path):
    """A model blob (its content does not matter to the scheduler)."""
    path = tmp_path / "blob"
    path.write_bytes(b"gguf")
    return path


class FakeContext:
    closed = False

    def close(self) -> None:
        self.closed = True


def test_a_model_loads_on_first_use_and_unloads_when_keep_alive_runs_out(blob):
    loads: list = []
    sched = engine.Scheduler(loader=lambda p, n=1: loads.append(p) or FakeContext())

    async def scenario() -> None:
        ctx, load_ns = await sched.acquire("llama3.2:latest", blob)
        assert load_ns > 0 and loads == [blob]
        await sched.release("llama3.2:latest", ctx, 0.2)
        again, second_load = await sched.acquire("llama3.2:latest", blob)
        assert again is ctx and second_load == 0 and len(loads) == 1
        await sched.release("llama3.2:latest", again, 0.2)
        assert "llama3.2:latest" in sched.loaded()
        time.sleep(0.25)
        assert sched.loaded() == {} and ctx.closed
    asyncio.run(scenario())


def test_keep_alive_zero_unloads_right_after_the_request_and_negative_keeps_it(blob):
    sched = engine.Scheduler(loader=lambda p, n=1: FakeContext())

    async def scenario() -> None:
        ctx, _ = await sched.acquire("a:latest", blob)
        await sched.release("a:latest", ctx, 0)
        assert sched.loaded() == {}
        ctx, _ = await sched.acquire("a:latest", blob)
        await sched.release("a:latest", ctx, -1)
        assert sched.loaded()["a:latest"].expires_at == float("inf")
    asyncio.run(scenario())


def test_past_max_queue_a_request_gets_ollamas_busy_error(blob, monkeypatch):
    monkeypatch.setenv("OLLAMA_NUM_PARALLEL", "1")
    monkeypatch.setenv("OLLAMA_MAX_QUEUE", "1")
    sched = engine.Scheduler(loader=lambda p, n=1: FakeContext())

    async def scenario() -> None:
        held, _ = await sched.acquire("a:latest", blob)  # the only slot
        waiting = asyncio.create_task(sched.acquire("a:latest", blob))  # queued: 1 of 1
        await asyncio.sleep(0.05)
        with pytest.raises(engine.Busy, match="maximum pending requests exceeded"):
            await sched.acquire("a:latest", blob)
        await sched.release("a:latest", held, 5)
        second, _ = await asyncio.wait_for(waiting, 2)
        await sched.release("a:latest", second, 5)
    asyncio.run(scenario())


def test_num_parallel_loads_one_context_per_slot(blob, monkeypatch):
    monkeypatch.setenv("OLLAMA_NUM_PARALLEL", "2")
    sched = engine.Scheduler(loader=lambda p, n=1: FakeContext())

    async def scenario() -> None:
        a, _ = await sched.acquire("a:latest", blob)
        b, _ = await asyncio.wait_for(sched.acquire("a:latest", blob), 1)
        assert a is not b
        await sched.release("a:latest", a, 5)
        await sched.release("a:latest", b, 5)
    asyncio.run(scenario())


@pytest.mark.parametrize("fmt,want", [(None, None), ("json", {"type": "json_object"}),
                                      ({"type": "object"}, {"type": "json_object", "schema": {"type": "object"}})])
def test_formats_become_grammar_constrained_response_formats(fmt, want):
    assert engine.response_format(fmt) == want


def test_without_its_grammar_a_format_is_not_enforced(monkeypatch):
    monkeypatch.setenv(engine.GRAMMAR_ENV, "off")
    assert engine.response_format({"type": "object"}) is None


def test_ollamas_options_map_to_llama_cpp_sampling_with_a_default_cap():
    out = engine.sampling({"temperature": 0, "num_predict": 8, "stop": ["\n"]})
    assert out["temperature"] == 0 and out["max_tokens"] == 8 and out["stop"] == ["\n"]
    assert engine.sampling({})["max_tokens"] == engine.NUM_PREDICT_CAP


def test_a_pull_stores_the_weights_as_a_sha256_blob_and_show_names_them(tmp_path, monkeypatch):
    weights = tmp_path / "SmolLM2-135M-Instruct.Q4_1.gguf"
    weights.write_bytes(b"GGUF" + b"\0" * 64)
    monkeypatch.setenv(engine.WEIGHTS_ENV, str(weights))
    monkeypatch.setenv(engine.WEIGHTS_NAME_ENV, "SmolLM2-135M-Instruct Q4_1")
    monkeypatch.setenv("OLLAMA_MODELS", str(tmp_path / "models"))
    manifest = store.pull("llama3.2")
    blob = store.weights_blob(manifest)
    assert blob is not None and blob.read_bytes() == weights.read_bytes()
    assert blob.name == "sha256-" + store.file_digest(weights)
    assert manifest["weights"] == "SmolLM2-135M-Instruct Q4_1, stand-in weights"
    assert store.weights_blob(store.pull("llava:7b")) == blob  # a vision name's text turns: the same weights
    from starlette.testclient import TestClient

    from standin_ollama.server import create_app

    with TestClient(create_app()) as client:
        show = client.post("/api/show", json={"model": "llama3.2"}).json()
    assert show["details"]["parameter_size"] == "135M" and show["details"]["quantization_level"] == "Q4_1"
    assert show["model_info"]["stackgate.serves"] == ("llama3.2:latest → SmolLM2-135M-Instruct Q4_1, stand-in "
                                                      "weights (llama.cpp)")


class SlowContext(FakeContext):
    """A llama.cpp stand-in: streams three pieces, 50 ms apart, from the generating thread."""

    n_tokens = 10
    running = False

    def create_chat_completion(self, **kwargs):
        self.running = True
        try:
            for piece in ("a", "b", "c"):
                time.sleep(0.05)
                yield {"choices": [{"delta": {"content": piece}, "finish_reason": None}]}
            yield {"choices": [{"delta": {}, "finish_reason": "stop"}]}
        finally:
            self.running = False


def test_a_stream_counts_its_pieces_and_releases_its_slot_when_done():
    ctx, released, stats = SlowContext(), [], engine.Stats()

    async def release() -> None:
        released.append(ctx.running)

    async def scenario() -> list[str]:
        return [p async for p in engine.stream_chat(ctx, [], None, {}, stats, done=release)]
    assert asyncio.run(scenario()) == ["a", "b", "c"]
    assert stats.eval_count == 3 and stats.prompt_eval_count == 7 and released == [False]


def test_a_stream_whose_reader_goes_away_releases_its_slot_only_after_the_thread_stopped():
    ctx, released = SlowContext(), []

    async def release() -> None:
        released.append(ctx.running)

    async def scenario() -> None:
        gen = engine.stream_chat(ctx, [], None, {}, engine.Stats(), done=release)
        assert await gen.__anext__() == "a"
        await gen.aclose()  # the client disconnected
        await asyncio.sleep(0.3)
    asyncio.run(scenario())
    assert released == [False]


def test_keep_alive_zero_does_not_close_a_context_a_waiting_request_is_about_to_get(blob):
    sched = engine.Scheduler(loader=lambda p, n=1: FakeContext())

    async def scenario() -> None:
        ctx, _ = await sched.acquire("a:latest", blob)
        waiter = asyncio.create_task(sched.acquire("a:latest", blob))
        await asyncio.sleep(0.05)
        await sched.release("a:latest", ctx, 0)
        got, _ = await asyncio.wait_for(waiter, 1)
        assert got is ctx and not got.closed
        await sched.release("a:latest", got, 0)
        assert sched.loaded() == {} and ctx.closed
    asyncio.run(scenario())


def test_the_stand_ins_v1_endpoints_pass_the_openai_conformance_checks(tmp_path, monkeypatch, fake_weights):
    from starlette.testclient import TestClient

    from stackgate.evidence import openai_api
    from standin_ollama.server import create_app

    monkeypatch.setenv("OLLAMA_MODELS", str(tmp_path / "models"))
    store.pull("llama3.2")
    with TestClient(create_app()) as http:
        base = "http://testserver"
        problems = [*openai_api.models(http, base, ["llama3.2:latest"]), *openai_api.chat(http, base, "llama3.2"),
                    *openai_api.stream(http, base, "llama3.2"), *openai_api.unknown_model(http, base),
                    *openai_api.bad_input(http, base, "llama3.2")]
    assert problems == []


def test_a_server_that_answers_any_model_name_fails_the_unknown_model_check():
    """llama.cpp's own OpenAI server (single-model mode) answers 200 for any model name: the check must say so."""
    import httpx

    from stackgate.evidence import openai_api

    def lenient(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"object": "chat.completion", "choices": [
            {"message": {"role": "assistant", "content": "Hello"}, "finish_reason": "stop"}]})
    with httpx.Client(transport=httpx.MockTransport(lenient)) as http:
        assert openai_api.unknown_model(http, "http://x")[0].startswith("model 'stackgate-no-such-model:0b' -> 200")
        assert "expected 400" in openai_api.bad_input(http, "http://x", "m")[0]


def test_threads_come_from_the_request_then_the_model_else_the_hosts_cores(monkeypatch):
    """As Ollama 0.9.0: options.num_thread, then PARAMETER num_thread, else the host's cores (not the cpuset)."""
    monkeypatch.setattr(engine.os, "cpu_count", lambda: 64)
    assert engine.threads() == 64
    assert engine.threads({"num_thread": 2}) == 2
    assert engine.threads({"num_thread": 2}, {"num_thread": 4}) == 4


def test_a_model_loaded_with_other_threads_is_loaded_again_when_idle(blob):
    loads: list = []
    sched = engine.Scheduler(loader=lambda p, n=1: loads.append(n) or FakeContext())

    async def scenario() -> None:
        ctx, _ = await sched.acquire("a:latest", blob, 64)
        await sched.release("a:latest", ctx, -1)
        ctx, _ = await sched.acquire("a:latest", blob, 1)
        assert loads == [64, 1] and sched.loaded()["a:latest"].threads == 1
        await sched.release("a:latest", ctx, -1)
    asyncio.run(scenario())


def test_past_max_loaded_models_the_least_recently_used_idle_model_is_unloaded(blob, monkeypatch):
    monkeypatch.setenv("OLLAMA_MAX_LOADED_MODELS", "2")
    sched = engine.Scheduler(loader=lambda p, n=1: FakeContext())

    async def scenario() -> None:
        for name in ("a:latest", "b:latest", "a:latest", "c:latest"):
            ctx, _ = await sched.acquire(name, blob)
            await sched.release(name, ctx, -1)
        assert sorted(sched.loaded()) == ["a:latest", "c:latest"]
    asyncio.run(scenario())


def test_a_queued_request_whose_client_went_away_is_cancelled_with_499_and_leaves_the_queue(blob, monkeypatch):
    from standin_ollama import server

    monkeypatch.setenv("OLLAMA_NUM_PARALLEL", "1")
    sched = engine.Scheduler(loader=lambda p, n=1: FakeContext())

    class GoneRequest:
        """A request whose body was read and whose client then closed its connection."""

        async def receive(self) -> dict:
            await asyncio.sleep(0.05)
            return {"type": "http.disconnect"}

    async def queued():
        ctx, _ = await sched.acquire("a:latest", blob)  # waits: the only slot is held
        yield "never"

    async def scenario() -> None:
        held, _ = await sched.acquire("a:latest", blob)
        with pytest.raises(server.APIError) as err:
            await asyncio.wait_for(server.whole(GoneRequest(), queued()), 2)
        assert (err.value.status, err.value.message) == (499, "request canceled")
        assert sched.waiting == 0  # it left the queue: the next request after the holder gets the slot
        await sched.release("a:latest", held, 5)
        again, _ = await asyncio.wait_for(sched.acquire("a:latest", blob), 1)
        await sched.release("a:latest", again, 5)
    asyncio.run(scenario())


def test_an_answer_read_before_the_client_goes_away_is_returned_whole():
    from standin_ollama import server

    class StayingRequest:
        async def receive(self) -> dict:
            await asyncio.sleep(10)
            return {"type": "http.disconnect"}

    async def pieces():
        yield "Hello "
        yield "there."
    assert asyncio.run(server.whole(StayingRequest(), pieces())) == "Hello there."
