"""All 13 services run healthy, and every health endpoint answers with its configured upstreams."""

import pytest

from stackgate.core.metrics import finding

pytestmark = pytest.mark.smoke


@pytest.mark.metric("services-running")
def test_service_is_running_and_healthy(service_spec, stack):
    """Every service of the manifest has a running container whose healthcheck passes."""
    state = stack.states().get(service_spec.name, "no container")
    assert state == "healthy", finding("services-running", service_spec.name, "running and healthy", state)


@pytest.mark.metric("health-endpoints")
def test_health_endpoint_answers_ok(web_spec, stack, http):
    """GET /health of every published service answers 200 with status ok."""
    resp = http.get(stack.url(web_spec.name) + web_spec.health)
    body = resp.json() if resp.headers.get("content-type", "").startswith("application/json") else {}
    assert resp.status_code == 200 and body.get("status") == "ok", finding(
        "health-endpoints", web_spec.name, f"GET {web_spec.health} -> 200 status ok",
        f"{resp.status_code} {resp.text[:300]}")


@pytest.mark.metric("health-endpoints")
def test_health_endpoint_reports_the_configured_ollama(app_spec, stack, http, manifest):
    """Each service's /health names, per URL variable, the Ollama the manifest routes it to."""
    body = http.get(stack.url(app_spec.name) + app_spec.health).json()
    for var, ollama in app_spec.routes.items():
        want = manifest.ollamas[ollama].internal_url
        seen = body.get("upstreams", {}).get(var)
        assert seen == want, finding("health-endpoints", app_spec.name, f"{var}={want}", f"{var}={seen}")
    for var in app_spec.models:
        assert body.get("models", {}).get(var), finding("health-endpoints", app_spec.name,
                                                        f"model variable {var} reported", str(body.get("models")))
