"""The Ollama stand-in: catalogue, names, store, API shapes, streaming, errors, GIN line, inference."""

from __future__ import annotations

import base64
import io
import json
import re
import shutil
from datetime import datetime

import numpy as np
import pytest

from stackgate.evidence.accesslog import parse_line
from stackgate.evidence.documents import render_png
from standin_ollama import VERSION, catalogue, names
from standin_ollama.gin import gin_line, go_duration


@pytest.fixture
def client(tmp_path, monkeypatch, fake_weights):
    monkeypatch.setenv("OLLAMA_MODELS", str(tmp_path / "models"))
    from starlette.testclient import TestClient

    from standin_ollama.server import create_app

    out = io.StringIO()
    app = create_app()
    app.out = out
    with TestClient(app) as c:
        c.gin = out
        yield c


def pull(client, *models):
    for m in models:
        assert client.post("/api/pull", json={"model": m, "stream": False}).json() == {"status": "success"}


@pytest.mark.parametrize("given,want", [("llava", "llava:latest"), ("LLaVA:7B", "llava:7b"),
                                        ("library/llama3.2", "llama3.2:latest"),
                                        ("registry.example/library/llama2:7b", "llama2:7b")])
def test_model_names_normalise_like_ollama(given, want):
    assert names.normalise(given) == want


def test_catalogue_kinds_and_embedding_dimensions():
    assert catalogue.lookup("nomic-embed-text").embedding_length == 768
    assert catalogue.lookup("nomic-embed-text").capabilities == ["embedding"]
    assert "vision" in catalogue.lookup("llava:7b").capabilities
    assert catalogue.lookup("no-such-model") is None


def test_version_says_it_is_a_stand_in(client):
    assert "standin" in client.get("/api/version").json()["version"] and "standin" in VERSION
    assert client.get("/").text == "Ollama is running"
    assert client.head("/").status_code == 200


def test_a_model_is_listed_only_after_it_was_pulled(client):
    assert client.get("/api/tags").json() == {"models": []}
    pull(client, "llava:7b")
    (entry,) = client.get("/api/tags").json()["models"]
    assert entry["name"] == "llava:7b" and re.fullmatch(r"[0-9a-f]{64}", entry["digest"])
    assert entry["details"]["parameter_size"] == "135M"  # the stand-in weights behind its text turns


def test_pull_streams_ndjson_progress_ending_in_success(client):
    lines = [json.loads(ln) for ln in client.post("/api/pull", json={"model": "llama2:7b"}).text.splitlines()]
    assert lines[0] == {"status": "pulling manifest"} and lines[-1] == {"status": "success"}


def test_pull_of_an_unknown_model_ends_in_the_manifest_error(client):
    resp = client.post("/api/pull", json={"model": "nope:1b"})
    assert json.loads(resp.text.splitlines()[-1]) == {"error": "pull model manifest: file does not exist"}
    assert client.post("/api/pull", json={"model": "nope", "stream": False}).status_code == 500


def test_with_its_registry_unreachable_a_pull_fails_as_ollamas_does(client, monkeypatch):
    monkeypatch.setenv("OLLAMA_STANDIN_REGISTRY", "unreachable")
    last = json.loads(client.post("/api/pull", json={"model": "llama2:7b"}).text.splitlines()[-1])
    assert last["error"].startswith("pull model manifest: Get ") and "no such host" in last["error"]
    assert "llama2:7b" not in {m["name"] for m in client.get("/api/tags").json()["models"]}


def test_generate_streams_chunks_and_a_final_chunk_with_counts(client):
    pull(client, "llama3.2")
    resp = client.post("/api/generate", json={"model": "llama3.2", "prompt": "Context: The sky is blue.\n"
                                              "Question: What colour is the sky?"})
    chunks = [json.loads(ln) for ln in resp.text.splitlines()]
    assert resp.headers["content-type"].startswith("application/x-ndjson")
    assert all(not c["done"] for c in chunks[:-1]) and chunks[-1]["done"]
    final = chunks[-1]
    assert final["done_reason"] == "stop"
    for key in ("total_duration", "load_duration", "prompt_eval_count", "eval_count", "eval_duration"):
        assert isinstance(final[key], int)
    assert "".join(c["response"] for c in chunks).strip() == "Fake answer from llama.cpp."  # llama.cpp's pieces


def test_unknown_model_answers_404_in_ollamas_words(client):
    resp = client.post("/api/generate", json={"model": "ghost", "prompt": "x"})
    assert resp.status_code == 404 and resp.json() == {"error": "model 'ghost' not found"}
    resp = client.post("/api/embed", json={"model": "ghost", "input": "x"})
    assert resp.json() == {"error": 'model "ghost" not found, try pulling it first'}
    assert client.post("/api/generate", json={"prompt": "x"}).status_code == 400


def test_an_embedding_model_refuses_generate_and_chat(client):
    pull(client, "nomic-embed-text")
    assert client.post("/api/generate", json={"model": "nomic-embed-text", "prompt": "x"}).status_code == 400
    resp = client.post("/api/chat", json={"model": "nomic-embed-text", "messages": [{"role": "user", "content": "x"}]})
    assert resp.status_code == 400 and "does not support chat" in resp.json()["error"]


def test_embeddings_are_normalised_deterministic_and_similar_for_similar_texts(client):
    pull(client, "nomic-embed-text")
    texts = ["invoice 4711 from ACME", "ACME invoice number 4711", "the weather is sunny today"]
    vecs = np.array(client.post("/api/embed", json={"model": "nomic-embed-text", "input": texts}).json()["embeddings"])
    assert vecs.shape == (3, 768)
    assert np.allclose(np.linalg.norm(vecs, axis=1), 1.0)
    assert vecs[0] @ vecs[1] > vecs[0] @ vecs[2] + 0.3
    again = client.post("/api/embeddings", json={"model": "nomic-embed-text", "prompt": texts[0]}).json()
    assert np.allclose(again["embedding"], vecs[0])


def test_a_json_format_goes_to_llama_cpp_as_a_grammar(client, fake_weights):
    pull(client, "llama3.2")
    resp = client.post("/api/generate", json={"model": "llama3.2", "format": "json", "stream": False,
                                              "prompt": "Extract the named entities as JSON.\nText: INVOICE 4711 ACME"})
    assert json.loads(resp.json()["response"]) == {"answer": "fake"}
    assert fake_weights[-1].calls[-1]["response_format"]["type"] == "json_object"


def test_a_vision_names_text_turn_is_answered_by_the_weights(client, fake_weights):
    pull(client, "llava:7b")
    resp = client.post("/api/chat", json={"model": "llava:7b", "stream": False,
                                          "messages": [{"role": "user", "content": "Say hello."}]})
    assert resp.json()["message"]["content"].strip() == "Fake answer from llama.cpp." and len(fake_weights) == 1
    info = client.post("/api/show", json={"model": "llava:7b"}).json()
    assert info["details"]["format"] == "gguf" and info["model_info"]["general.parameter_count"] == 135_000_000
    assert "images: tesseract OCR" in info["model_info"]["stackgate.serves"]


def test_a_model_without_its_weights_answers_with_an_error_never_with_invented_text(client, monkeypatch):
    from standin_ollama import engine, store

    pull(client, "llama3.2")
    blob = store.weights_blob(store.get("llama3.2:latest"))
    blob.unlink()  # the volume lost the blob: the name is listed, its weights are gone
    for path, body in (("/api/generate", {"prompt": "Hi"}), ("/api/chat", {"messages": [{"role": "user", "content": "Hi"}]}),
                       ("/v1/chat/completions", {"messages": [{"role": "user", "content": "Hi"}]})):
        resp = client.post(path, json={"model": "llama3.2", "stream": False, **body})
        assert resp.status_code == 500 and "no such file or directory" in resp.text, (path, resp.text)
    assert client.post("/api/show", json={"model": "llama3.2"}).status_code == 500
    monkeypatch.delenv(engine.WEIGHTS_ENV)
    pull(client, "llama2:7b")  # pulled from an image that carries no weights
    resp = client.post("/api/generate", json={"model": "llama2:7b", "prompt": "Hi", "stream": False})
    assert resp.status_code == 500 and "has no weights" in resp.json()["error"]


@pytest.mark.skipif(shutil.which("tesseract") is None, reason="tesseract not installed (make setup installs it)")
def test_images_are_read_with_ocr(client):
    pull(client, "llava:7b")
    img = base64.b64encode(render_png(["INVOICE 4711 ACME"])).decode()
    resp = client.post("/api/chat", json={"model": "llava:7b", "stream": False, "messages": [
        {"role": "user", "content": "What text does this image contain?", "images": [img]}]})
    assert resp.json()["message"]["content"] == "INVOICE 4711 ACME"


def test_openai_chat_streams_sse_and_ends_with_done(client):
    pull(client, "llama3.2")
    resp = client.post("/v1/chat/completions", json={"model": "llama3.2", "stream": True,
                                                      "messages": [{"role": "user", "content": "Hello."}]})
    events = [ln[len("data: "):] for ln in resp.text.splitlines() if ln.startswith("data: ")]
    assert events[-1] == "[DONE]"
    assert json.loads(events[-2])["choices"][0]["finish_reason"] == "stop"
    resp = client.post("/v1/embeddings", json={"model": "ghost", "input": "x"})
    assert resp.status_code == 404 and "message" in resp.json()["error"]


def test_ps_delete_and_copy(client):
    pull(client, "llama3.2")
    client.post("/api/generate", json={"model": "llama3.2", "prompt": ""})
    assert [m["name"] for m in client.get("/api/ps").json()["models"]] == ["llama3.2:latest"]
    assert client.post("/api/copy", json={"source": "llama3.2", "destination": "mine"}).status_code == 200
    assert client.request("DELETE", "/api/delete", json={"model": "mine"}).status_code == 200
    assert client.request("DELETE", "/api/delete", json={"model": "mine"}).status_code == 404


def test_every_request_prints_one_gin_line_that_the_suite_parses(client):
    client.get("/api/tags")
    (line,) = client.gin.getvalue().splitlines()
    entry = parse_line(line)
    assert entry is not None and entry.method == "GET" and entry.path == "/api/tags" and entry.status == 200


def test_gin_line_matches_ollamas_format_byte_for_byte():
    line = gin_line(datetime(2025, 3, 8, 21, 33, 37), 200, 600.829e-6, "127.0.0.1", "GET", "/api/tags")
    assert line == '[GIN] 2025/03/08 - 21:33:37 | 200 |     600.829µs |       127.0.0.1 | GET      "/api/tags"'
    assert go_duration(1.5) == "1.5s" and go_duration(0.0123) == "12.3ms" and go_duration(65) == "1m5s"


def test_the_access_log_survives_stdout_pointed_at_dev_null_while_a_model_loads():
    """llama-cpp-python (verbose off) dup2s /dev/null onto fd 1 and swaps sys.stdout while it loads a model; an
    access line printed meanwhile must still reach the real stdout."""
    import os
    import subprocess
    import sys

    script = ("import os, sys\nfrom standin_ollama.server import own_stdout\nout = own_stdout()\n"
              "saved = os.dup(1); null = os.open(os.devnull, os.O_WRONLY); os.dup2(null, 1)\n"
              "print('[GIN] logged while loading', file=out, flush=True)\nos.dup2(saved, 1)\n")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60,
                          env={**os.environ, "PYTHONPATH": ":".join(sys.path)})
    assert "[GIN] logged while loading" in done.stdout, done.stderr[-500:]
