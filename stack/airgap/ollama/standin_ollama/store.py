"""The model volume: pulled models live under OLLAMA_MODELS as manifests + blobs, like Ollama's.

A model is present only if it was pulled into this volume; nothing is listed from the catalogue. An LLM or vision model
pulled while the image carries weights gets them as its model layer: the GGUF copied from the image's local
copy into blobs/sha256-<digest> (never from a network), and the engine loads it from there.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path

from .catalogue import Model, lookup
from .engine import Weights, local_weights
from .names import normalise, split

MODEL_LAYER = "application/vnd.ollama.image.model"
REGISTRY_HOST = "local"  # Ollama files manifests under its registry's name; the stand-in has no registry


def models_dir() -> Path:
    """OLLAMA_MODELS, default ~/.ollama/models (as Ollama)."""
    return Path(os.environ.get("OLLAMA_MODELS") or Path.home() / ".ollama" / "models")


def _manifest_path(name: str, root: Path) -> Path:
    base, tag = split(name)
    return root / "manifests" / REGISTRY_HOST / "library" / base / tag


def blob_for(model: Model) -> bytes:
    """The stand-in's blob of a model: a description, no weights."""
    return json.dumps({"standin": True, "weights": None, **asdict(model)}, sort_keys=True).encode()


_DIGESTS: dict[tuple[str, float], str] = {}


def file_digest(path: Path) -> str:
    """sha256 hex of a file (remembered per path and mtime: the weights are hashed once per process)."""
    key = (str(path), path.stat().st_mtime)
    if key not in _DIGESTS:
        h = hashlib.sha256()
        with path.open("rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                h.update(block)
        _DIGESTS[key] = h.hexdigest()
    return _DIGESTS[key]


def store_weights(weights: Weights, root: Path) -> tuple[str, int]:
    """Copy the image's GGUF into the volume as a blob (once per digest); its (digest, size)."""
    digest = file_digest(weights.path)
    blob = root / "blobs" / f"sha256-{digest}"
    if not blob.is_file() or blob.stat().st_size != weights.path.stat().st_size:
        tmp = blob.with_suffix(".partial")
        shutil.copyfile(weights.path, tmp)
        tmp.replace(blob)
    return digest, blob.stat().st_size


def pull(name: str, root: Path | None = None, alias: str | None = None) -> dict:
    """Write a catalogue model into the volume (as `alias` when copying); return its manifest."""
    root = root or models_dir()
    model = lookup(name)
    if model is None:
        raise KeyError(name)
    (root / "blobs").mkdir(parents=True, exist_ok=True)
    target = normalise(alias or model.name)
    weights = local_weights() if model.kind in ("llm", "vision") else None  # a vision name's text turns use them
    if weights is not None:
        layer, size = store_weights(weights, root)
        digest = hashlib.sha256(f"{target}\n{layer}".encode()).hexdigest()
        extra = {"layers": [{"mediaType": MODEL_LAYER, "digest": f"sha256:{layer}", "size": size}],
                 "weights": weights.label}
    else:
        blob = blob_for(model)
        digest = hashlib.sha256(blob).hexdigest()
        (root / "blobs" / f"sha256-{digest}").write_bytes(blob)
        size, extra = len(blob), {}
    manifest = {"name": target, "model": model.name, "digest": digest, "size": size,
                "modified_at": datetime.now(UTC).isoformat(), **extra}
    return _written(target, manifest, root)


def _written(target: str, manifest: dict, root: Path) -> dict:
    """Write a model's manifest into the volume atomically (a reader never sees half of it); return it."""
    path = _manifest_path(target, root)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(manifest))
    tmp.replace(path)
    return manifest


def create(name: str, base: dict, parameters: dict, root: Path | None = None) -> dict:
    """A model `name` made from `base` (its layers shared) with `parameters` over base's; return its manifest."""
    root = root or models_dir()
    target = normalise(name)
    params = {**(base.get("parameters") or {}), **parameters}
    digest = hashlib.sha256(f"{target}\n{base['digest']}\n{json.dumps(params, sort_keys=True)}".encode()).hexdigest()
    manifest = {**base, "name": target, "digest": digest, "parameters": params,
                "modified_at": datetime.now(UTC).isoformat()}
    return _written(target, manifest, root)


def get(name: str, root: Path | None = None) -> dict | None:
    """The manifest of a pulled model, or None when it is not in the volume."""
    try:
        path = _manifest_path(name, root or models_dir())
    except ValueError:
        return None
    if not path.is_file():
        return None
    return json.loads(path.read_text())


def listing(root: Path | None = None) -> list[dict]:
    """Manifests of every pulled model, newest first."""
    base = (root or models_dir()) / "manifests" / REGISTRY_HOST / "library"
    found = [json.loads(p.read_text()) for p in base.glob("*/*") if p.is_file() and p.suffix != ".tmp"]
    return sorted(found, key=lambda m: m["modified_at"], reverse=True)


def delete(name: str, root: Path | None = None) -> bool:
    """Remove a pulled model's manifest; False when it was not there."""
    try:
        path = _manifest_path(name, root or models_dir())
    except ValueError:
        return False
    if not path.is_file():
        return False
    path.unlink()
    return True


def weights_blob(manifest: dict, root: Path | None = None) -> Path | None:
    """The GGUF blob of a pulled model, or None when it was pulled without weights."""
    for layer in manifest.get("layers") or []:
        if layer.get("mediaType") == MODEL_LAYER:
            blob = (root or models_dir()) / "blobs" / layer["digest"].replace(":", "-")
            return blob if blob.is_file() else None
    return None


def model_of(manifest: dict) -> Model:
    """The catalogue entry a manifest was pulled from."""
    model = lookup(manifest["model"])
    assert model is not None, manifest
    return model


class Loaded:
    """Models 'in memory' (for /api/ps), each with an expiry like keep_alive."""

    def __init__(self) -> None:
        self._until: dict[str, float] = {}

    def touch(self, name: str, keep_alive: float = 300.0) -> None:
        """Mark name loaded until now + keep_alive seconds (0 unloads)."""
        if keep_alive == 0:
            self._until.pop(name, None)
        else:
            self._until[name] = time.time() + keep_alive

    def current(self) -> dict[str, float]:
        """name -> expiry (epoch seconds) of models still loaded."""
        now = time.time()
        self._until = {k: v for k, v in self._until.items() if v > now}
        return dict(self._until)
