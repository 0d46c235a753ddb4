"""Model-name normalisation as Ollama does it: `llava` == `llava:latest`, case-insensitive."""

from __future__ import annotations

DEFAULT_TAG = "latest"
_DROP_PREFIXES = ("library/",)


def normalise(name: str) -> str:
    """Return the display name `model:tag` (lower-case, default tag `latest`)."""
    name = (name or "").strip().lower()
    if not name:
        raise ValueError("model is required")
    # drop host and the default namespace, keep a user namespace
    parts = name.split("/")
    if len(parts) == 3:
        parts = parts[1:]
    name = "/".join(parts)
    for prefix in _DROP_PREFIXES:
        name = name.removeprefix(prefix)
    base, _, tag = name.partition(":")
    if not base or any(c.isspace() for c in name):
        raise ValueError(f"invalid model name {name!r}")
    return f"{base}:{tag or DEFAULT_TAG}"


def split(name: str) -> tuple[str, str]:
    """`llava:7b` -> ('llava', '7b')."""
    base, _, tag = normalise(name).partition(":")
    return base, tag
