"""The offline model catalogue: what can be 'pulled' without a registry, and what each model can do.

Sizes and digests are those of the stand-in's own blob; no entry claims a real parameter
count or quantization.
"""

from __future__ import annotations

from dataclasses import dataclass

from .names import normalise


@dataclass(frozen=True)
class Model:
    """One catalogue entry."""

    name: str  # normalised `model:tag`
    family: str
    kind: str  # "llm", "vision" or "embedding"
    embedding_length: int
    context_length: int = 8192

    @property
    def capabilities(self) -> list[str]:
        """Ollama's capability names for this kind of model."""
        return {"llm": ["completion"], "vision": ["completion", "vision"], "embedding": ["embedding"]}[self.kind]


CATALOGUE: dict[str, Model] = {
    m.name: m
    for m in (
        Model("llama3.2:latest", "llama", "llm", 3072, 131072),
        Model("llama3.2:1b", "llama", "llm", 2048, 131072),
        Model("llama2:7b", "llama", "llm", 4096, 4096),
        Model("llama2:latest", "llama", "llm", 4096, 4096),
        Model("llava:7b", "llama", "vision", 4096, 4096),
        Model("llava:latest", "llama", "vision", 4096, 4096),
        Model("nomic-embed-text:latest", "nomic-bert", "embedding", 768, 2048),
        Model("mxbai-embed-large:latest", "bert", "embedding", 1024, 512),
    )
}


def lookup(name: str) -> Model | None:
    """The catalogue entry for name (normalised), or None when the catalogue has no such model."""
    try:
        return CATALOGUE.get(normalise(name))
    except ValueError:
        return None
