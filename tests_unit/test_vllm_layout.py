"""Phase 2: the vLLM stand-in's front (vLLM's /health and errors over llama.cpp's server), the services' OpenAI
client switch, and the vLLM manifest built by `extends`."""

from __future__ import annotations

import json

import httpx
import pytest
from standin_vllm.server import VLLMFront, as_llama_cpp
from starlette.applications import Starlette
from starlette.responses import JSONResponse, StreamingResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from stackgate import manifest
from stackgate.evidence import openai_api


def inner() -> Starlette:
    """llama.cpp's server as far as the front sees it: it answers whatever it is sent."""
    async def chat(request):
        body = await request.json()
        if body.get("stream"):
            async def events():
                yield b'data: {"object": "chat.completion.chunk", "choices": [{"delta": {"content": "Hi"}, ' \
                      b'"finish_reason": null}]}\n\n'
                yield b'data: {"object": "chat.completion.chunk", "choices": [{"delta": {}, "finish_reason": "stop"}]}\n\n'
                yield b"data: [DONE]\n\n"
            return StreamingResponse(events(), media_type="text/event-stream")
        return JSONResponse({"object": "chat.completion", "echo": body, "choices": [
            {"message": {"role": "assistant", "content": "Hi"}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 3, "completion_tokens": 1, "total_tokens": 4}})
    listing = {"object": "list", "data": [{"id": "llama3.2:latest"}]}
    return Starlette(routes=[Route("/v1/chat/completions", chat, methods=["POST"]),
                             Route("/v1/models", lambda r: JSONResponse(listing))])


@pytest.mark.parametrize("drop_done", [False, True])
def test_the_front_answers_as_vllm_and_a_stream_without_done_is_caught(drop_done):
    with TestClient(VLLMFront(inner(), ["llama3.2:latest"], drop_done)) as http:
        base = "http://testserver"
        assert http.get(base + "/health").status_code == 200
        assert openai_api.unknown_model(http, base) == [] and openai_api.bad_input(http, base, "llama3.2:latest") == []
        assert openai_api.chat(http, base, "llama3.2:latest") == []
        problems = openai_api.stream(http, base, "llama3.2:latest")
    assert bool(problems) == drop_done and (not drop_done or "[DONE]" in problems[0])


def test_vllm_request_fields_become_llama_cpp_ones():
    raw = json.dumps({"response_format": {"type": "json_schema", "json_schema": {"name": "x", "schema": {"type": "object"}}},
                      "repetition_penalty": 1.0}).encode()
    assert json.loads(as_llama_cpp(raw)) == {"response_format": {"type": "json_object", "schema": {"type": "object"}},
                                              "repeat_penalty": 1.0}


def test_services_choose_their_llm_api_from_the_environment(monkeypatch):
    from app.common import Ollama, OpenAIServer, llm_from_env

    monkeypatch.setenv("OLLAMA_URL", "http://ollama:11434")
    client, url, var = llm_from_env()
    assert type(client) is Ollama and var == "OLLAMA_URL"
    monkeypatch.setenv("LLM_API", "openai")
    monkeypatch.setenv("LLM_BASE_URL", "http://vllm:8000")
    client, url, var = llm_from_env()
    assert isinstance(client, OpenAIServer) and (url, var) == ("http://vllm:8000", "LLM_BASE_URL")


def test_the_vllm_manifest_extends_the_base_and_a_null_removes_a_key():
    m = manifest.load(manifest.DEFAULT_PATH.parent / "manifest-vllm.yaml")
    assert set(m.ollamas) == {"vllm", "ollama-vision"} and m.ollamas["vllm"].api == "openai"
    assert m.services["notes-service"].routes == {"LLM_BASE_URL": "vllm"}
    assert m.services["notes-service"].probe == manifest.load().services["notes-service"].probe
    assert "simple" not in m.layouts and "openai-api" in m.gates["smoke"].metrics
    assert manifest.merged({"a": {"b": 1, "c": 2}, "d": [1]}, {"a": {"b": None, "e": 3}, "d": [2]}) == \
        {"a": {"c": 2, "e": 3}, "d": [2]}


def test_an_openai_server_answer_in_vllms_older_error_form_is_an_error_object():
    def older(request: httpx.Request) -> httpx.Response:
        return httpx.Response(404, json={"object": "error", "message": "The model `x` does not exist.", "code": 404})
    with httpx.Client(transport=httpx.MockTransport(older)) as http:
        assert openai_api.unknown_model(http, "http://x") == []


def test_the_stand_in_names_its_weights_in_v1_models_and_the_gate_reads_them_there(monkeypatch):
    """/v1/models is answered by the front (vLLM's ModelCard, `root` = the weights), never by llama.cpp's server,
    which holds its model lock while it generates; the backend line the verdict carries is read from it."""
    from stackgate.evidence import backends

    front = VLLMFront(inner(), ["llama3.2:latest", "llama2:7b"], weights="/opt/weights/Small.gguf", max_model_len=99)
    with TestClient(front) as http:
        cards = http.get("http://testserver/v1/models").json()["data"]
        version = http.get("http://testserver/version").json()
    assert [(c["id"], c["root"], c["max_model_len"]) for c in cards] == [
        ("llama3.2:latest", "/opt/weights/Small.gguf", 99), ("llama2:7b", "/opt/weights/Small.gguf", 99)]

    def get(url, timeout):  # noqa: ANN001, ARG001
        body = version if url.endswith("/version") else {"data": cards}
        return httpx.Response(200, json=body, request=httpx.Request("GET", url))
    monkeypatch.setattr(backends.httpx, "get", get)
    m = manifest.load(manifest.DEFAULT_PATH.parent / "manifest-vllm.yaml")
    line = backends.openai_backend(m, "vllm")
    assert line.startswith("STAND-IN for vLLM") and "llama2:7b → /opt/weights/Small.gguf" in line
    cards[1]["root"] = "meta-llama/Llama-2-7b-chat-hf"
    version["version"] = "0.9.1"
    assert backends.openai_backend(m, "vllm") == ("vLLM 0.9.1: llama3.2:latest → /opt/weights/Small.gguf, "
                                                   "llama2:7b → meta-llama/Llama-2-7b-chat-hf")
