"""Both Ollamas are healthy and hold exactly the models of their job."""

import math

import pytest

from stackgate.core.metrics import finding
from stackgate.evidence.composefile import cpu_set
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
def test_every_required_model_has_its_weights(required_model, stack, http):
    """/api/show of each model the manifest requires answers 200 with weights behind it (GGUF, a parameter count):
    a name listed without its weights (a blob gone from the volume) cannot answer, however healthy its Ollama."""
    spec, model = required_model
    resp = http.post(stack.url(spec.name) + "/api/show", json={"model": model})
    assert resp.status_code == 200, finding("models", spec.name, f"{model}: /api/show 200 (its weights readable)",
                                            f"{resp.status_code} {resp.text[:200]}")
    body = resp.json()
    info, caps = body.get("model_info") or {}, body.get("capabilities") or []
    serves = str(info.get("stackgate.serves", ""))
    if caps == ["embedding"] and "no model" in serves:  # the stand-in's own confession, in its /api/show
        pytest.skip(f"stand-in: {serves}: an embedding stand-in has no weights by design")
    fmt, count = (body.get("details") or {}).get("format"), info.get("general.parameter_count") or 0
    assert fmt == "gguf" and count > 0, finding("models", spec.name, f"{model}: GGUF weights with a parameter count",
                                                f"format {fmt!r}, general.parameter_count {count!r}; {serves}")


@pytest.mark.published_ollama
@pytest.mark.metric("models")
def test_ollama_holds_no_model_of_the_other_job(ollama_spec, stack, http):
    """Separation: the LLM Ollama holds no vision model, the vision Ollama no LLM model."""
    held = model_names(http, stack.url(ollama_spec.name))
    wrong = sorted(held & {normalise(m) for m in ollama_spec.must_not_hold})
    assert not wrong, finding("models", ollama_spec.name, f"none of {list(ollama_spec.must_not_hold)}",
                              f"holds {wrong}")


def cpus_given(container) -> tuple[int | None, str]:
    """How many CPUs the engine lets a container use: its cpuset, else its CPU quota rounded up."""
    host = container.attrs.get("HostConfig") or {}
    if host.get("CpusetCpus"):
        return len(cpu_set(host["CpusetCpus"])), f"cpuset {host['CpusetCpus']}"
    if host.get("NanoCpus"):
        return math.ceil(host["NanoCpus"] / 1e9), f"CPU quota {host['NanoCpus'] / 1e9:g}"
    return None, "no cpuset or CPU quota"


def num_thread(http, url: str, model: str) -> int | None:
    """The `num_thread` parameter /api/show reports for a model (None when it has none)."""
    shown = http.post(url + "/api/show", json={"model": model})
    for line in (shown.json().get("parameters") or "").splitlines() if shown.status_code == 200 else []:
        key, _, value = line.partition(" ")
        if key == "num_thread" and value.strip().isdigit():
            return int(value)
    return None


@pytest.mark.published_ollama
@pytest.mark.metric("ollamas-healthy")
def test_an_ollamas_models_run_with_the_thread_count_of_its_cpus(ollama_spec, stack, http):
    """Every model an Ollama holds has `num_thread` equal to the CPUs its container may use (its cpuset, else its
    quota), as /api/show reports it; where the stand-in runs real llama.cpp, an answer's runner shows the same
    thread count in /api/ps."""
    if ollama_spec.api != "ollama":
        pytest.skip(f"{ollama_spec.name} is an OpenAI-compatible server: its threads are not Ollama's num_thread")
    want, why = cpus_given(stack.containers()[ollama_spec.name])
    url = stack.url(ollama_spec.name)
    seen = {m: num_thread(http, url, m) for m in ollama_spec.models}
    wrong = {m: n for m, n in seen.items() if n != want}
    assert want and not wrong, finding("ollamas-healthy", ollama_spec.name, f"num_thread {want} ({why}) on every model",
                                       ", ".join(f"{m}: {n or 'unset (one thread per host core)'}" for m, n in wrong.items()))
    caps = {m: (http.post(url + "/api/show", json={"model": m}).json().get("capabilities") or []) for m in ollama_spec.models}
    model = next((m for m in ollama_spec.models if "completion" in caps[m]), None)
    if model is None:
        return  # only embedding models: /api/show's num_thread above is the evidence
    resp = http.post(url + "/api/generate", json={"model": model, "prompt": "Say one word.",
                                                  "stream": False, "options": {"num_predict": 1}})
    assert resp.status_code == 200, finding("ollamas-healthy", ollama_spec.name, "an answer to a one-word prompt",
                                            f"{resp.status_code} {resp.text[:200]}")
    runners = {m["name"]: m for m in http.get(url + "/api/ps").json().get("models", [])}
    ran = runners.get(normalise(model), {}).get("standin_num_thread")
    if ran is not None:  # the stand-in's llama.cpp runner reports what it was loaded with (Ollama's /api/ps does not)
        assert ran == want, finding("ollamas-healthy", ollama_spec.name, f"the answer run with {want} thread(s) ({why})",
                                    f"its llama.cpp runner has {ran}")
