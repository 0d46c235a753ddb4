"""Health coverage: the matrix of each app's healthcheck while one store or Ollama is paused, on a fake stack."""

from __future__ import annotations

import pytest

from stackgate import manifest
from stackgate.core.errors import ManifestError
from stackgate.evidence import health_coverage


class FakeStack:
    """notes-service's health covers postgres only; ner-graph-service's covers ollama and neo4j."""

    def __init__(self) -> None:
        self.manifest = manifest.load()
        self.paused: set[str] = set()
        self.covers = {"notes-service": {"postgres"}, "ner-graph-service": {"ollama", "neo4j"}}

    def depends_on(self, app: str) -> list[str]:
        return {"notes-service": ["ollama", "postgres"], "ner-graph-service": ["ollama", "neo4j"]}[app]

    def pause(self, services: list[str]) -> list[str]:
        frozen = [s for s in services if s != "redis"]  # redis is not running
        self.paused |= set(frozen)
        return frozen

    def unpause(self, services: list[str]) -> None:
        self.paused -= set(services)

    def run_healthcheck(self, app: str) -> tuple[int, str]:
        down = self.covers[app] & self.paused
        return (1, f"unhealthy: {sorted(down)}") if down else (0, "")


def test_an_app_that_ignores_a_dependency_from_its_depends_on_is_named():
    cov = health_coverage.measure(FakeStack(), ["notes-service", "ner-graph-service"], thaw_timeout=1)
    assert cov.must_cover == {"notes-service": ["ollama", "postgres"], "ner-graph-service": ["ollama", "neo4j"]}
    assert cov.ignored("notes-service") == ["ollama"] and cov.ignored("ner-graph-service") == []
    assert cov.cells["ner-graph-service"]["postgres"].covered is False  # not its to cover: no finding
    assert cov.not_paused == {"redis": "not running"} and cov.not_thawed == {}


def test_health_covers_replaces_the_default_and_must_name_services(tmp_path):
    text = manifest.DEFAULT_PATH.read_text().replace(
        "    routes: {OLLAMA_URL: ollama}\n    models: {OLLAMA_MODEL: OLLAMA_URL}\n    probe:\n"
        "      - {method: POST, path: /notes",
        "    health_covers: [postgres]\n    routes: {OLLAMA_URL: ollama}\n    models: {OLLAMA_MODEL: OLLAMA_URL}\n"
        "    probe:\n      - {method: POST, path: /notes", 1)
    path = tmp_path / "manifest.yaml"
    path.write_text(text.replace("project_dir: .", f"project_dir: {manifest.DEFAULT_PATH.parent}"))
    stack = FakeStack()
    stack.manifest = manifest.load(path)
    assert health_coverage.must_cover(stack, "notes-service") == ["postgres"]
    path.write_text(path.read_text().replace("health_covers: [postgres]", "health_covers: [postgress]"))
    with pytest.raises(ManifestError, match="health_covers names 'postgress'"):
        manifest.load(path)


def test_each_pause_has_its_own_window_and_an_app_unhealthy_before_it_proves_nothing():
    stack = FakeStack()
    stack.covers["notes-service"] = {"postgres", "ollama", "always-down"}
    stack.paused.add("always-down")  # notes-service fails its healthcheck before any pause
    opened: list[str] = []

    class Window:
        def __init__(self, dep: str) -> None:
            opened.append(dep)

        def __enter__(self) -> None:
            return None

        def __exit__(self, *exc) -> None:
            return None
    cov = health_coverage.measure(stack, ["notes-service", "ner-graph-service"], thaw_timeout=0, window=Window)
    assert opened == [s.name for s in stack.manifest.services.values() if s.kind in ("store", "ollama")]
    assert cov.ignored("notes-service") == ["ollama", "postgres"]  # failing all along: no evidence of coverage
    assert cov.not_thawed["notes-service"].startswith("after") and cov.ignored("ner-graph-service") == []
