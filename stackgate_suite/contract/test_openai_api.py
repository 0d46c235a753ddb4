"""OpenAI API conformance (stackgate.evidence.openai_api) of every backend: each Ollama's /v1 endpoints (metric ollama-api)
and each OpenAI-compatible server in an Ollama's place, such as vLLM (metric openai-api). One behaviour per test;
the findings name the backend."""

import pytest

from stackgate.core.metrics import finding
from stackgate.evidence import openai_api
from stackgate.evidence.ollama import normalise

pytestmark = [pytest.mark.contract, pytest.mark.smoke, pytest.mark.published_ollama]


def metric(spec) -> str:
    return "ollama-api" if spec.api == "ollama" else "openai-api"


def completion_model(stack, http, spec) -> str:
    """A model of the backend that completes text: an OpenAI server's first; an Ollama's first with that capability."""
    if spec.api == "openai":
        return spec.models[0]
    for model in spec.models:
        if "completion" in http.post(stack.url(spec.name) + "/api/show", json={"model": model}).json().get(
                "capabilities", []):
            return model
    pytest.skip(f"{spec.name} holds no completion model in the manifest")


def test_openai_models_lists_every_required_model(backend_spec, stack, http):
    """/v1/models lists every model of the backend's job; an OpenAI server in an Ollama's place (the Ollamas are
    checked by their own model tests) serves none of the other job's."""
    problems = openai_api.models(http, stack.url(backend_spec.name), list(backend_spec.models), normalise)
    if backend_spec.api == "openai":
        listed = http.get(stack.url(backend_spec.name) + "/v1/models").json().get("data", [])
        wrong = sorted({normalise(m["id"]) for m in listed} & {normalise(m) for m in backend_spec.must_not_hold})
        problems += [f"serves {wrong}, models of the other job"] if wrong else []
    assert not problems, finding(metric(backend_spec), backend_spec.name, "/v1/models listing its models",
                                 "; ".join(problems))


def test_openai_chat_answers_with_content_and_usage(backend_spec, stack, http):
    problems = openai_api.chat(http, stack.url(backend_spec.name), completion_model(stack, http, backend_spec))
    assert not problems, finding(metric(backend_spec), backend_spec.name, "an OpenAI chat completion",
                                 "; ".join(problems))


def test_openai_chat_streams_sse_ending_in_done(backend_spec, stack, http):
    problems = openai_api.stream(http, stack.url(backend_spec.name), completion_model(stack, http, backend_spec))
    assert not problems, finding(metric(backend_spec), backend_spec.name, "an SSE stream of chunks ending in [DONE]",
                                 "; ".join(problems))


def test_openai_unknown_model_is_a_404_error(backend_spec, stack, http):
    problems = openai_api.unknown_model(http, stack.url(backend_spec.name))
    assert not problems, finding(metric(backend_spec), backend_spec.name, "404 with an error for an unknown model",
                                 "; ".join(problems))


def test_openai_request_without_messages_is_a_400_error(backend_spec, stack, http):
    problems = openai_api.bad_input(http, stack.url(backend_spec.name), completion_model(stack, http, backend_spec))
    assert not problems, finding(metric(backend_spec), backend_spec.name,
                                 "400 with an error for a request without messages", "; ".join(problems))
