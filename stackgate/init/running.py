"""What a running compose project adds to an inference, read-only: each Ollama's models (GET /api/tags) and each
app's health path (GET /health) through their published ports. It never pulls, pauses or writes anything."""

from __future__ import annotations

import docker
import httpx

from stackgate.core.errors import StackgateError
from stackgate.evidence.ollama import normalise

from .infer import Fact, Inference


def containers_of(project: str) -> dict[str, object]:
    """service -> container of a running compose project; StackgateError when there is none."""
    try:
        client = docker.from_env()
        found = client.containers.list(filters={"label": f"com.docker.compose.project={project}"})
    except docker.errors.DockerException as exc:
        raise StackgateError(f"init: --running {project}: no Docker engine answers ({exc})") from None
    if not found:
        raise StackgateError(f"init: --running {project}: no running compose project of that name")
    return {c.labels.get("com.docker.compose.service", c.name): c for c in found}


def enrich(inf: Inference, project: str, host: str = "localhost") -> None:
    """Models from each Ollama's /api/tags and health paths from /health probes of the running project."""
    running = containers_of(project)
    with httpx.Client(timeout=5) as http:
        for s in inf.services.values():
            if s.name not in running or s.port is None:
                continue
            base = f"http://{host}:{s.port.value}"
            try:
                if s.kind == "ollama":
                    tags = http.get(base + "/api/tags").json().get("models", [])
                    listed = sorted(normalise(m["name"]) for m in tags)
                    declared = set(s.models.value) if s.models else set()
                    if s.models is None or set(listed) != declared:
                        extra = sorted(set(listed) - declared)
                        if s.models is not None and extra:
                            inf.questions.append(f"{s.name}: the running server also holds {extra}, which its files "
                                                 "do not pull; should it?")
                        if s.models is None:
                            s.models = Fact(listed, f"from {s.name}'s /api/tags on the running project {project}")
                elif s.kind in ("app", "frontend") and s.health is None and \
                        http.get(base + "/health").status_code == 200:
                    s.health = Fact("/health", f"a GET /health of the running project {project} answered 200")
            except (httpx.HTTPError, ValueError):
                inf.questions.append(f"{s.name}: did not answer on its published port {s.port.value} of the running "
                                     f"project {project}")
