"""What the stand-in answers without a language model: tesseract OCR for images, hashed embeddings.

Nothing here generates text: every text answer comes from llama.cpp over real weights (engine.py); a model
without weights answers with an error.
"""

from __future__ import annotations

import base64
import hashlib
import math
import os
import re
import subprocess

WORD = re.compile(r"[A-Za-z0-9][A-Za-z0-9'\-]*")


class OCRError(RuntimeError):
    """tesseract could not read the image."""


def ocr(image_b64: str, timeout: float = 60) -> str:
    """Text tesseract reads in a base64 image (PNG/JPEG), whitespace-normalised per line."""
    try:
        data = base64.b64decode(image_b64, validate=False)
    except ValueError as exc:
        raise OCRError(f"invalid image data: {exc}") from exc
    env = {**os.environ, "OMP_THREAD_LIMIT": "1"}
    res = subprocess.run(["tesseract", "stdin", "stdout", "--psm", "3"], input=data,
                         capture_output=True, timeout=timeout, env=env)
    if res.returncode != 0:
        raise OCRError(res.stderr.decode(errors="replace").strip().splitlines()[-1:] or "tesseract failed")
    lines = [" ".join(ln.split()) for ln in res.stdout.decode(errors="replace").splitlines()]
    return "\n".join(ln for ln in lines if ln)


def tokens(text: str) -> list[str]:
    """Lower-case word tokens."""
    return [w.lower() for w in WORD.findall(text or "")]


def embed(text: str, dims: int) -> list[float]:
    """A deterministic L2-normalised vector: hashed words and character trigrams (signed)."""
    vec = [0.0] * dims
    feats: list[tuple[str, float]] = []
    for w in tokens(text):
        feats.append(("w:" + w, 2.0))
        padded = f"<{w}>"
        feats += [("c:" + padded[i:i + 3], 1.0) for i in range(len(padded) - 2)]
    for feat, weight in feats:
        h = hashlib.blake2b(feat.encode(), digest_size=8).digest()
        idx = int.from_bytes(h[:4], "big") % dims
        vec[idx] += weight if h[4] & 1 else -weight
    norm = math.sqrt(sum(v * v for v in vec))
    if norm == 0:
        vec[0], norm = 1.0, 1.0
    return [v / norm for v in vec]


def read_images(images: list[str], limit: int | None = None) -> str:
    """The answer to a turn with images: the text tesseract reads in them (no vision model looks at them)."""
    text = "\n".join(t for t in (ocr(i) for i in images) if t)
    out = text or "No readable text was found in the image."
    if limit is not None and limit >= 0:
        out = " ".join(out.split(" ")[:limit])
    return out
