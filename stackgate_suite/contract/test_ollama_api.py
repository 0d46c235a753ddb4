"""Ollama API conformance, run against both live Ollamas. Written for real Ollama: model names come from
the manifest, model kinds from /api/show capabilities; nothing assumes the stand-in."""

import json

import pytest

from stackgate.core.metrics import finding
from stackgate.evidence.ollama import normalise, recalls

pytestmark = [pytest.mark.contract, pytest.mark.smoke, pytest.mark.metric("ollama-api"), pytest.mark.published_ollama]
UNKNOWN = "stackgate-no-such-model:0b"
# An answer the model must give from the conversation: a name said in an earlier turn, asked for again. A prompt
# handed back (echoed, or a run of its words) or another conversation's answer does not state it as an answer.
NAME = "Zorbalin"
RECALL = [{"role": "user", "content": f"Hello, my name is {NAME}."},
          {"role": "assistant", "content": "Nice to meet you! How can I help you today?"},
          {"role": "user", "content": "What is my name?"}]
ASKED = " ".join(m["content"] for m in RECALL)
FRIEND = "Bertrand"  # the streaming test's name: not the chat test's, so neither's answer passes for the other's


@pytest.fixture(scope="module")
def kinds(stack, http, manifest):
    """ollama -> {'completion': model | None, 'embedding': model | None} from /api/show capabilities, or the finding
    of a model /api/show could not describe (which fails that Ollama's tests only)."""
    out = {}
    for name, spec in manifest.ollamas.items():
        if spec.api != "ollama":
            continue
        caps, problem = {}, None
        for model in spec.models:
            resp = http.post(stack.url(name) + "/api/show", json={"model": model})
            if resp.status_code != 200:
                problem = finding("ollama-api", name, f"/api/show of {model} -> 200", f"{resp.status_code} {resp.text[:200]}")
                break
            caps[model] = resp.json().get("capabilities", [])
        out[name] = problem or {kind: next((m for m, c in caps.items() if kind in c), None)
                                for kind in ("completion", "embedding")}
    return out


def model_of(kinds, ollama_spec, kind):
    found = kinds[ollama_spec.name]
    if isinstance(found, str):
        pytest.fail(found, pytrace=False)
    model = found[kind]
    if model is None:
        pytest.skip(f"{ollama_spec.name} holds no {kind} model in the manifest")
    return model


def ndjson(resp):
    return [json.loads(line) for line in resp.text.splitlines() if line.strip()]


def test_root_says_ollama_is_running(ollama_spec, stack, http):
    """GET / answers 200 'Ollama is running'; HEAD / answers 200."""
    base = stack.url(ollama_spec.name)
    assert http.get(base + "/").text == "Ollama is running"
    assert http.head(base + "/").status_code == 200


def test_version_has_a_version_string(ollama_spec, stack, http):
    """GET /api/version -> {"version": "..."}."""
    assert isinstance(http.get(stack.url(ollama_spec.name) + "/api/version").json()["version"], str)


def test_tags_lists_models_with_name_digest_size_details(ollama_spec, stack, http):
    """GET /api/tags entries carry name, model, digest, size, modified_at and details."""
    listed = {normalise(m.get("name", "")): m for m in http.get(stack.url(ollama_spec.name) + "/api/tags").json()["models"]}
    missing = [m for m in ollama_spec.models if normalise(m) not in listed]
    assert not missing, finding("ollama-api", ollama_spec.name, f"/api/tags listing {list(ollama_spec.models)}",
                                f"missing {missing}")
    for m in listed.values():
        for key in ("name", "model", "digest", "size", "modified_at", "details"):
            assert key in m, finding("ollama-api", ollama_spec.name, f"/api/tags entries with {key}", str(m)[:200])


def test_show_describes_each_required_model(ollama_spec, stack, http):
    """POST /api/show answers each required model with details and capabilities; a bare name normalises."""
    for model in ollama_spec.models:
        body = http.post(stack.url(ollama_spec.name) + "/api/show", json={"model": model.split(":latest")[0]}).json()
        assert "details" in body and body.get("capabilities"), finding("ollama-api", ollama_spec.name,
                                                                        f"/api/show of {model}", str(body)[:200])


def test_unknown_model_is_a_404_with_an_error(ollama_spec, stack, http):
    """generate, chat and show of a model that is not there answer 404 {"error": ...}."""
    base = stack.url(ollama_spec.name)
    for path, body in (("/api/generate", {"model": UNKNOWN, "prompt": "x"}),
                       ("/api/chat", {"model": UNKNOWN, "messages": [{"role": "user", "content": "x"}]}),
                       ("/api/show", {"model": UNKNOWN})):
        resp = http.post(base + path, json=body)
        assert resp.status_code == 404 and "not found" in resp.json().get("error", ""), finding(
            "ollama-api", ollama_spec.name, f"404 not found from {path}", f"{resp.status_code} {resp.text[:200]}")


def test_generate_streams_ndjson_ending_in_done(ollama_spec, stack, http, kinds):
    """POST /api/generate streams NDJSON chunks; the last has done, done_reason and the counters; the streamed
    text is the model's answer (it recalls the name the prompt gave, and is not the prompt handed back)."""
    model = model_of(kinds, ollama_spec, "completion")
    prompt = f"My friend is called {FRIEND}. What is my friend called?"
    chunks = ndjson(http.post(stack.url(ollama_spec.name) + "/api/generate",
                              json={"model": model, "prompt": prompt, "options": {"temperature": 0, "num_predict": 16}}))
    assert chunks and chunks[-1]["done"] is True and all(c["done"] is False for c in chunks[:-1])
    for key in ("done_reason", "total_duration", "eval_count", "prompt_eval_count"):
        assert key in chunks[-1], finding("ollama-api", ollama_spec.name, f"final chunk with {key}", str(chunks[-1]))
    text = "".join(c.get("response", "") for c in chunks)
    assert recalls(text, FRIEND, prompt), finding(
        "ollama-api", ollama_spec.name, f"a streamed answer that names {FRIEND} and is not the prompt handed back",
        repr(text)[:200])


def test_generate_without_streaming_returns_one_object(ollama_spec, stack, http, kinds):
    """stream:false returns a single JSON object with the whole response."""
    model = model_of(kinds, ollama_spec, "completion")
    body = http.post(stack.url(ollama_spec.name) + "/api/generate",
                     json={"model": model, "prompt": "Say hello.", "stream": False, "options": {"num_predict": 8}}).json()
    assert body["done"] is True and isinstance(body["response"], str) and body["model"] == normalise(model)


def test_json_format_returns_valid_json(ollama_spec, stack, http, kinds):
    """format:"json" makes the response parse as JSON."""
    model = model_of(kinds, ollama_spec, "completion")
    body = http.post(stack.url(ollama_spec.name) + "/api/generate", json={
        "model": model, "format": "json", "stream": False, "options": {"temperature": 0, "num_predict": 96},
        "prompt": 'Reply with a JSON object whose key "greeting" has the value "hello".'}).json()
    try:
        parsed = json.loads(body["response"])
    except ValueError:
        parsed = None
    assert isinstance(parsed, dict), finding("ollama-api", ollama_spec.name, 'format:"json" -> a JSON object',
                                             repr(body.get("response"))[:200])


CONSTANT = {"type": "object", "required": ["verdict"], "additionalProperties": False,
            "properties": {"verdict": {"type": "string", "enum": ["constrained"]}}}


def test_a_json_schema_format_constrains_the_answer(ollama_spec, stack, http, kinds):
    """format: a JSON schema is enforced (Ollama: the engine's grammar), not asked for: a schema whose only valid
    answer is {"verdict": "constrained"} gets exactly that, whatever the prompt says."""
    model = model_of(kinds, ollama_spec, "completion")
    body = http.post(stack.url(ollama_spec.name) + "/api/generate", json={
        "model": model, "format": CONSTANT, "stream": False, "options": {"temperature": 0, "num_predict": 64},
        "prompt": "Write one sentence about the weather."}).json()
    try:
        parsed = json.loads(body.get("response", ""))
    except ValueError:
        parsed = None
    assert parsed == {"verdict": "constrained"}, finding(
        "ollama-api", ollama_spec.name, 'a schema-constrained answer {"verdict": "constrained"}',
        repr(body.get("response", body))[:200])


def test_chat_answers_as_the_assistant(ollama_spec, stack, http, kinds):
    """POST /api/chat stream:false returns message.role assistant and done, and the assistant's answer is to this
    conversation: it recalls the name an earlier turn gave, and is not the conversation handed back."""
    model = model_of(kinds, ollama_spec, "completion")
    body = http.post(stack.url(ollama_spec.name) + "/api/chat", json={
        "model": model, "stream": False, "messages": RECALL, "options": {"temperature": 0, "num_predict": 16}}).json()
    assert body["message"]["role"] == "assistant" and body["done"] is True
    content = body["message"]["content"]
    assert isinstance(content, str) and recalls(content, NAME, ASKED), finding(
        "ollama-api", ollama_spec.name, f"an assistant message that names {NAME} and is not the conversation handed "
        "back", str(body)[:200])


def test_embed_returns_normalised_vectors(ollama_spec, stack, http, kinds):
    """POST /api/embed returns one L2-normalised vector per input."""
    model = model_of(kinds, ollama_spec, "embedding")
    body = http.post(stack.url(ollama_spec.name) + "/api/embed", json={"model": model, "input": ["a", "b c"]}).json()
    assert len(body["embeddings"]) == 2
    for vec in body["embeddings"]:
        assert abs(sum(v * v for v in vec) - 1.0) < 1e-3


def test_legacy_embeddings_endpoint_answers(ollama_spec, stack, http, kinds):
    """POST /api/embeddings (legacy) returns {"embedding": [...]}."""
    model = model_of(kinds, ollama_spec, "embedding")
    body = http.post(stack.url(ollama_spec.name) + "/api/embeddings", json={"model": model, "prompt": "hello"}).json()
    assert isinstance(body["embedding"], list) and body["embedding"]


def test_embedding_model_refuses_generate(ollama_spec, stack, http, kinds):
    """An embedding-only model answers generate with 400 and an error."""
    model = model_of(kinds, ollama_spec, "embedding")
    resp = http.post(stack.url(ollama_spec.name) + "/api/generate", json={"model": model, "prompt": "x"})
    assert resp.status_code == 400 and "error" in resp.json()


def test_ps_lists_a_model_loaded_by_a_request(ollama_spec, stack, http, kinds):
    """After a request with keep_alive, GET /api/ps lists that model as loaded."""
    found = kinds[ollama_spec.name]
    if isinstance(found, str):
        pytest.fail(found, pytrace=False)
    model = found["completion"] or found["embedding"]
    base = stack.url(ollama_spec.name)
    if found["completion"]:
        http.post(base + "/api/generate", json={"model": model, "prompt": "", "keep_alive": "5m"})
    else:
        http.post(base + "/api/embed", json={"model": model, "input": "x", "keep_alive": "5m"})
    loaded = {normalise(m["name"]) for m in http.get(base + "/api/ps").json()["models"]}
    assert normalise(model) in loaded, finding("ollama-api", ollama_spec.name, f"/api/ps listing {model}",
                                               f"{sorted(loaded)}")


def parameters(http, base: str, model: str) -> dict[str, int | str]:
    """A model's parameters as /api/show lists them ('num_thread 1' lines), typed as a Modelfile's."""
    shown = http.post(base + "/api/show", json={"model": model})
    out: dict[str, int | str] = {}
    for line in (shown.json().get("parameters") or "").splitlines() if shown.status_code == 200 else []:
        key, _, value = line.strip().partition(" ")
        if key and value:
            out[key] = int(value) if value.strip().isdigit() else value.strip().strip('"')
    return out


def test_pull_of_a_present_model_streams_to_success(ollama_spec, stack, http):
    """POST /api/pull of a required model streams progress ending in {"status": "success"}. A pull replaces the
    model's manifest with the registry's, dropping the parameters its entrypoint set (num_thread): the test puts
    them back through /api/create, so the gate leaves the stack as it found it."""
    base, model = stack.url(ollama_spec.name), ollama_spec.models[0]
    kept = {k: v for k, v in parameters(http, base, model).items() if k == "num_thread"}
    try:
        lines = ndjson(http.post(base + "/api/pull", json={"model": model}, timeout=600))
        assert lines[-1] == {"status": "success"}, finding("ollama-api", ollama_spec.name, "pull ends in success",
                                                           str(lines[-1]))
    finally:
        if kept:
            again = http.post(base + "/api/create", json={"model": model, "from": model, "parameters": kept,
                                                          "stream": False}, timeout=120)
            assert again.status_code == 200, finding("ollama-api", ollama_spec.name, f"{model}'s {kept} set again "
                                                     "after the pull", f"{again.status_code} {again.text[:200]}")


def test_copy_then_delete_a_model(ollama_spec, stack, http):
    """POST /api/copy makes a new name; DELETE /api/delete removes it; deleting again is a 404."""
    base, alias = stack.url(ollama_spec.name), f"stackgate-copy-{ollama_spec.name}:test"
    assert http.post(base + "/api/copy", json={"source": ollama_spec.models[0], "destination": alias}).status_code == 200
    assert http.request("DELETE", base + "/api/delete", json={"model": alias}).status_code == 200
    assert http.request("DELETE", base + "/api/delete", json={"model": alias}).status_code == 404


def test_openai_models_and_chat_completions(ollama_spec, stack, http, kinds):
    """/v1/models lists the models; /v1/chat/completions answers, and streams SSE ending in [DONE]."""
    base = stack.url(ollama_spec.name)
    ids = {m["id"] for m in http.get(base + "/v1/models").json()["data"]}
    assert {normalise(m) for m in ollama_spec.models} <= {normalise(i) for i in ids}
    model = model_of(kinds, ollama_spec, "completion")
    body = http.post(base + "/v1/chat/completions", json={"model": model, "max_tokens": 8,
                                                          "messages": [{"role": "user", "content": "Hi"}]}).json()
    assert body["object"] == "chat.completion" and body["choices"][0]["message"]["role"] == "assistant"
    stream = http.post(base + "/v1/chat/completions", json={"model": model, "stream": True, "max_tokens": 8,
                                                             "messages": [{"role": "user", "content": "Hi"}]}).text
    events = [ln[6:] for ln in stream.splitlines() if ln.startswith("data: ")]
    assert events[-1] == "[DONE]"


def test_openai_embeddings(ollama_spec, stack, http, kinds):
    """/v1/embeddings returns an OpenAI list of embeddings."""
    model = model_of(kinds, ollama_spec, "embedding")
    body = http.post(stack.url(ollama_spec.name) + "/v1/embeddings", json={"model": model, "input": "hello"}).json()
    assert body["object"] == "list" and body["data"][0]["object"] == "embedding"
