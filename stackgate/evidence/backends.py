"""The backends behind each Ollama, identified over HTTP: a real Ollama or vLLM by its version, a stand-in by its
own confession (`/api/version`, `/api/show`'s `stackgate.serves`, the vLLM stand-in's `/version`)."""

from __future__ import annotations

import httpx

from stackgate.manifest import Manifest


def ollama_backends(manifest: Manifest) -> dict[str, str]:
    """Each Ollama's backend from /api/version: 'stand-in (…)' or 'Ollama …' — never confused."""
    out = {}
    for name in manifest.ollamas:
        try:
            version = httpx.get(manifest.url(name) + ("/version" if manifest.ollamas[name].api == "openai" else
                                                      "/api/version"), timeout=5).json()["version"]
        except (httpx.HTTPError, ValueError, KeyError) as exc:
            out[name] = f"unknown ({type(exc).__name__})"
            continue
        if manifest.ollamas[name].api == "openai":
            out[name] = openai_backend(manifest, name)
            continue
        out[name] = f"STAND-IN (not Ollama), version {version}" if "standin" in version else f"Ollama {version}"
        serves = [what for what in (_serves(manifest, name, m) for m in manifest.ollamas[name].models) if what]
        if serves:
            out[name] += "; " + "; ".join(serves)
    return out


def openai_backend(manifest: Manifest, name: str) -> str:
    """An OpenAI-compatible backend's line: vLLM's /version (or the stand-in's confession) and each name it serves
    with the weights its /v1/models names as `root` (vLLM's field)."""
    try:
        version = httpx.get(manifest.url(name) + "/version", timeout=5).json().get("version", "?")
        cards = httpx.get(manifest.url(name) + "/v1/models", timeout=5).json().get("data", [])
        served = [f"{m['id']} → {m.get('root') or 'weights not named'}" for m in cards]
    except (httpx.HTTPError, ValueError, KeyError, TypeError) as exc:
        return f"unknown ({type(exc).__name__})"
    if "stand-in" in version:
        return f"STAND-IN for vLLM ({version}): {', '.join(served)} (stand-in weights, as its /v1/models says)"
    return f"vLLM {version}: {', '.join(served)}"


def _serves(manifest: Manifest, ollama: str, model: str) -> str:
    """What answers for a model name, as a stand-in's /api/show says ('llama3.2:latest → SmolLM2-135M-Instruct
    Q4_1, stand-in weights (llama.cpp)'); empty for a real Ollama, which names its own weights."""
    try:
        info = httpx.post(manifest.url(ollama) + "/api/show", json={"model": model}, timeout=5).json()
    except (httpx.HTTPError, ValueError):
        return ""
    return str((info.get("model_info") or {}).get("stackgate.serves", ""))

