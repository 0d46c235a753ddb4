"""With a GPU on the host, both Ollamas get it and load their models into VRAM."""

import pytest

from stackgate.core.metrics import finding

pytestmark = [pytest.mark.smoke, pytest.mark.gpu, pytest.mark.metric("gpu"), pytest.mark.published_ollama]


@pytest.fixture(scope="session")
def require_gpu(gpu):
    """Skip (with the reason) before any stack starts when the host has no GPU."""
    if gpu is None:  # not an optional skip: the metric reads UNKNOWN
        pytest.skip("cannot tell whether the host has a GPU: `docker info` did not answer")
    if not gpu:
        pytest.skip("no GPU: `docker info` reports no nvidia runtime and no CDI GPU devices")


@pytest.fixture
def real_ollama(require_gpu, ollama_spec, stack):
    """Skip (with the reason) when this Ollama is a stand-in: it runs no model on a GPU, so VRAM proves nothing."""
    what = stack.standins().get(ollama_spec.name)
    if what:
        pytest.skip(f"{ollama_spec.name} is a stand-in for {what}: it runs no model on the GPU")


def test_both_ollamas_get_the_gpu_reservation(real_ollama, ollama_spec, stack):
    """The gpu override reserves nvidia devices for each Ollama's container (judged only with a real Ollama: the
    metric must not read PASS on a reservation no model uses)."""
    requests = stack.containers()[ollama_spec.name].attrs["HostConfig"].get("DeviceRequests") or []
    assert any("gpu" in str(r.get("Capabilities")) for r in requests), finding(
        "gpu", ollama_spec.name, "an nvidia device request", str(requests))


def test_loaded_models_report_vram_use(real_ollama, ollama_spec, stack, http):
    """After a request, each loaded model reports size_vram > 0 in /api/ps."""
    base = stack.url(ollama_spec.name)
    model = ollama_spec.models[0]
    http.post(base + "/api/generate", json={"model": model, "prompt": "", "keep_alive": "5m"})
    loaded = {m["name"]: m.get("size_vram", 0) for m in http.get(base + "/api/ps").json()["models"]}
    assert loaded.get(model, 0) > 0, finding("gpu", ollama_spec.name, f"{model} loaded with size_vram > 0",
                                             str(loaded))
