"""Deterministic, honest inference: tesseract OCR for images, hashed embeddings, extractive text.

Nothing here is a language model. Answers are taken from the prompt (or read from the image).
"""

from __future__ import annotations

import base64
import hashlib
import json
import math
import os
import re
import subprocess

WORD = re.compile(r"[A-Za-z0-9][A-Za-z0-9'\-]*")
STOP = set("""a an the of to in on at for and or is are was were be been it its this that these those
what which who whom whose when where why how do does did with from by as about into than then there
their they them you your we our i me my he she his her not no yes can could would should will shall
please give return list extract answer question text context document following only json""".split())
CONTENT_MARKERS = ("text:", "context:", "document:", "notes:", "content:")


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


def sentences(text: str) -> list[str]:
    """Split into sentences on line breaks and . ! ? boundaries."""
    out: list[str] = []
    for line in (text or "").splitlines():
        out += [s.strip() for s in re.split(r"(?<=[.!?])\s+", line) if s.strip()]
    return out


def split_prompt(prompt: str) -> tuple[str, str, str]:
    """(instructions, content, question) of a prompt, by its `Text:`/`Context:`/`Question:` markers."""
    low = prompt.lower()
    q_at = max(low.rfind("question:"), -1)
    question = prompt[q_at + len("question:"):].strip() if q_at >= 0 else ""
    body = prompt[:q_at] if q_at >= 0 else prompt
    lowb = body.lower()
    starts = [(lowb.find(m), m) for m in CONTENT_MARKERS if lowb.find(m) >= 0]
    if starts:
        at, marker = min(starts)
        instructions, content = body[:at], body[at + len(marker):]
    else:
        instructions, content = "", body
    if not question:
        qs = [s for s in sentences(content) if s.endswith("?")]
        if qs and not starts:
            question = qs[-1]
            content = content.replace(question, "")
    for answer_marker in ("answer:",):
        if question.lower().endswith(answer_marker):
            question = question[: -len(answer_marker)].strip()
    return instructions.strip(), content.strip().strip('"').strip(), question.strip()


def best_sentence(content: str, question: str) -> str:
    """The content sentence sharing most non-stopword tokens with the question (first on ties)."""
    q = {t for t in tokens(question) if t not in STOP}
    best, best_score = "", -1
    for s in sentences(content):
        score = len(q & set(tokens(s)))
        if score > best_score:
            best, best_score = s, score
    return best if best_score > 0 else ""


def entities(content: str) -> list[dict]:
    """Capitalised/upper-case names and numbers of the content, in order, without repeats."""
    found: list[dict] = []
    seen: set[str] = set()
    for m in re.finditer(r"\b(?:[A-Z][A-Za-z0-9&\-]+(?:\s+[A-Z][A-Za-z0-9&\-]+)*|\d{2,}(?:[.,/\-]\d+)*)\b", content):
        for name in ([m.group(0)] if not m.group(0).isupper() else m.group(0).split()):
            key = name.lower()
            if key in seen or key in STOP:
                continue
            seen.add(key)
            if name[0].isdigit():
                kind = "NUMBER"
            elif name.isupper():
                kind = "ORGANIZATION" if len(name) <= 6 else "TERM"
            else:
                kind = "NAME"
            found.append({"name": name, "type": kind})
    return found


def generate_text(prompt: str, system: str = "", images: list[str] | None = None,
                  fmt: str | dict | None = None, limit: int | None = None) -> str:
    """The stand-in's answer to a prompt: OCR for images, else extractive from the prompt text."""
    if images:
        text = "\n".join(t for t in (ocr(i) for i in images) if t)
        out = text or "No readable text was found in the image."
    else:
        out = _answer(prompt, system, fmt)
    if fmt is not None and not images:
        return out  # JSON must stay whole
    if limit is not None and limit >= 0:
        words = out.split(" ")
        out = " ".join(words[:limit])
    return out


def _answer(prompt: str, system: str, fmt: str | dict | None) -> str:
    instructions, content, question = split_prompt(prompt)
    intent = f"{system} {instructions} {prompt if not content else ''}".lower()
    if fmt is not None:
        if "entit" in intent:
            return json.dumps({"entities": entities(content)})
        answer = best_sentence(content, question) if question else " ".join(sentences(content)[:1])
        if isinstance(fmt, dict) and isinstance(fmt.get("properties"), dict):
            return json.dumps({k: ((v or {})["enum"][0] if (v or {}).get("enum") else
                                   [answer] if (v or {}).get("type") == "array" else answer)
                               for k, v in fmt["properties"].items()})
        return json.dumps({"response": answer})
    if question:
        return best_sentence(content, question) or "The context does not contain the answer."
    if "summar" in intent:
        return " ".join(sentences(content)[:2])[:400] or "There is nothing to summarise."
    if "note" in intent or "structur" in intent:
        return "\n".join(f"- {s}" for s in sentences(content)) or "- (empty)"
    first = sentences(content)[:1]
    return first[0] if first else "Hello! How can I help you today?"
