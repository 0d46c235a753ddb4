"""Both Ollamas are healthy and hold exactly the models of their job."""

import pytest

from stackgate.core.metrics import finding
from stackgate.evidence.ollama import model_names, normalise

pytestmark = pytest.mark.smoke


@pytest.mark.published_ollama
@pytest.mark.metric("ollamas-healthy")
def test_ollama_api_answers(ollama_spec, stack, http):
    """Each Ollama answers GET /api/version with a version."""
    resp = http.get(stack.url(ollama_spec.name) + "/api/version")
    assert resp.status_code == 200 and resp.json().get("version"), finding(
        "ollamas-healthy", ollama_spec.name, "GET /api/version -> 200 with a version",
        f"{resp.status_code} {resp.text[:200]}")


@pytest.mark.metric("ollamas-healthy")
def test_ollama_container_is_healthy(ollama_spec, stack):
    """Each Ollama's container reports `healthy` (its healthcheck lists every required model)."""
    state = stack.states().get(ollama_spec.name, "missing")
    assert state == "healthy", finding("ollamas-healthy", ollama_spec.name, "container health 'healthy'", state)


@pytest.mark.published_ollama
@pytest.mark.metric("models")
def test_required_models_are_present(ollama_spec, stack, http):
    """Each Ollama lists every model its job needs (GET /api/tags)."""
    held = model_names(http, stack.url(ollama_spec.name))
    missing = [m for m in ollama_spec.models if normalise(m) not in held]
    assert not missing, finding("models", ollama_spec.name, f"models {list(ollama_spec.models)}",
                                f"missing {missing}; holds {sorted(held)}")


@pytest.mark.published_ollama
@pytest.mark.metric("models")
def test_ollama_holds_no_model_of_the_other_job(ollama_spec, stack, http):
    """Separation: the LLM Ollama holds no vision model, the vision Ollama no LLM model."""
    held = model_names(http, stack.url(ollama_spec.name))
    wrong = sorted(held & {normalise(m) for m in ollama_spec.must_not_hold})
    assert not wrong, finding("models", ollama_spec.name, f"none of {list(ollama_spec.must_not_hold)}",
                              f"holds {wrong}")
