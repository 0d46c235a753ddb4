"""Small helpers over Ollama's HTTP API used by the suite (works against real Ollama and the stand-in)."""

from __future__ import annotations

import httpx

from .roundtrip import carries, handed_back


def normalise(name: str) -> str:
    """`llava` -> `llava:latest` (Ollama's listing form), lower-case."""
    name = name.strip().lower()
    return name if ":" in name.rsplit("/", 1)[-1] else f"{name}:latest"


def model_names(http: httpx.Client, url: str) -> set[str]:
    """Names of the models an Ollama lists at /api/tags."""
    resp = http.get(url + "/api/tags")
    resp.raise_for_status()
    return {normalise(m["name"]) for m in resp.json().get("models", [])}


def recalls(answer: str, fact: str, prompt: str) -> bool:
    """True when the answer states the fact the conversation gave and is more than the prompt handed back."""
    return carries(answer, fact) and not handed_back(answer, prompt)
