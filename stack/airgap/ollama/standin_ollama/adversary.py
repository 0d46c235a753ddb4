"""A wrong answer on purpose (faults only): OLLAMA_STANDIN_ADVERSARY replaces each text answer with a plausible
wrong one, to show that the gate's content checks fail a model that does not do its job.

Modes: `echo` (the last user message), `span` (a random run of the prompt's words), `example` (the answer of the
conversation's first worked example), `other` (the real answer this server gave an earlier, different request of
the same kind: another document's answer). With a `format`, the wrong text is shaped to it (a JSON schema's
strings hold it, an enum takes its closest member), as a grammar-constrained model would emit it.
"""

from __future__ import annotations

import json
import os
import random
import re

MODES = ("echo", "span", "example", "other")
WORD = re.compile(r"\S+")


def mode() -> str:
    """The adversary's mode from OLLAMA_STANDIN_ADVERSARY ('' when off); an unknown mode stops the server."""
    value = os.environ.get("OLLAMA_STANDIN_ADVERSARY", "").strip().lower()
    if value and value not in MODES:
        raise SystemExit(f"OLLAMA_STANDIN_ADVERSARY={value!r}: expected one of {', '.join(MODES)}")
    return value


def rng() -> random.Random:
    """A fresh generator per answer (OLLAMA_STANDIN_ADVERSARY_SEED makes the answers replayable)."""
    seed = os.environ.get("OLLAMA_STANDIN_ADVERSARY_SEED")
    return random.Random(int(seed) if seed else None)


def kind(messages: list[dict], fmt: object) -> str:
    """Requests of one kind share their instruction and the sort of format they ask for (none, "json", a schema),
    not the schema itself: a schema built from each request's own text (NER's spans, a note's sentences) would
    make every request a kind of its own, and 'other' would hand back the real answer."""
    system = "\n".join(m.get("content", "") for m in messages if m.get("role") == "system")
    return json.dumps([system[:500], "schema" if isinstance(fmt, dict) else fmt if isinstance(fmt, str) else None])


def last_user(messages: list[dict]) -> str:
    return next((m.get("content", "") for m in reversed(messages) if m.get("role") == "user"), "")


def wrong_text(how: str, messages: list[dict], r: random.Random) -> str:
    """The wrong answer of modes echo, span and example (example falls back to a span without an example)."""
    if how == "echo":
        return last_user(messages)
    if how == "example":
        shown = next((m.get("content", "") for m in messages if m.get("role") == "assistant"), "")
        if shown:
            return shown
    words = WORD.findall("\n".join(m.get("content", "") for m in messages))
    if not words:
        return ""
    n = r.randint(1, min(12, len(words)))
    start = r.randrange(0, len(words) - n + 1)
    return " ".join(words[start:start + n])


def _overlap(member: str, text: str) -> float:
    a, b = set(member.lower().split()), set(text.lower().split())
    return len(a & b) / len(a | b) if a | b else 0.0


def _fit(schema: dict, text: str) -> float:
    """How well text fits a schema's closest enum member (0 without enums): picks a branch of an anyOf."""
    enums = [schema["enum"]] if schema.get("enum") else [v["enum"] for v in (schema.get("properties") or {}).values()
                                                           if isinstance(v, dict) and v.get("enum")]
    return max((_overlap(str(m), text) for e in enums for m in e), default=0.0)


def shaped(schema: object, text: str, r: random.Random) -> object:
    """A value of the schema that says text, as a grammar would let it: strings hold it (a pattern keeps the words
    it allows), an enum gives its closest member (ties drawn), anyOf its best-fitting branch, numbers the first
    number in it, arrays one item (a tuple one per position), objects every property."""
    if not isinstance(schema, dict):
        return text
    if "enum" in schema and schema["enum"]:
        members = list(schema["enum"])
        best = max(_overlap(str(m), text) for m in members)
        return r.choice([m for m in members if _overlap(str(m), text) == best])
    branches = [b for b in schema.get("anyOf") or schema.get("oneOf") or [] if isinstance(b, dict)]
    if branches:
        best = max(_fit(b, text) for b in branches)
        return shaped(r.choice([b for b in branches if _fit(b, text) == best]), text, r)
    kind_ = schema.get("type")
    if kind_ == "object" or "properties" in schema:
        return {k: shaped(v, text, r) for k, v in (schema.get("properties") or {}).items()}
    if kind_ == "array":
        if schema.get("prefixItems"):
            return [shaped(p, text, r) for p in schema["prefixItems"]]
        return [shaped(schema.get("items") or {}, text, r)]
    if kind_ in ("number", "integer"):
        found = re.search(r"-?\d+(\.\d+)?", text)
        return (int(float(found.group())) if kind_ == "integer" else float(found.group())) if found else 0
    if kind_ == "boolean":
        return True
    if schema.get("pattern"):
        try:
            allowed = re.compile(schema["pattern"])
        except re.error:
            allowed = None
        if allowed is not None:
            return " ".join(w for w in text.split() if allowed.fullmatch(w))
    limit = schema.get("maxLength")
    return text[:limit] if isinstance(limit, int) else text


def formatted(text: str, fmt: object, r: random.Random) -> str:
    """The wrong text as the request's format asks: JSON when a format is set (a JSON wrong answer kept as it
    is when it already is JSON, e.g. a worked example's), else the text."""
    if not fmt:
        return text
    try:
        value = json.loads(text)
    except ValueError:
        value = None
    if isinstance(fmt, dict):
        if isinstance(value, dict):
            return json.dumps(value)
        return json.dumps(shaped(fmt, text, r))
    return json.dumps(value if isinstance(value, dict) else {"answer": text})


class Memory:
    """The real answers given, per kind of request (mode `other` answers a request with another one's)."""

    def __init__(self, keep: int = 50) -> None:
        self.keep = keep
        self.answers: dict[str, list[tuple[str, str]]] = {}

    def other(self, key: str, prompt: str, r: random.Random) -> str | None:
        """A kept real answer of the same kind to a different prompt, or None."""
        choices = [a for p, a in self.answers.get(key, []) if p != prompt]
        return r.choice(choices) if choices else None

    def remember(self, key: str, prompt: str, answer: str) -> None:
        kept = self.answers.setdefault(key, [])
        kept.append((prompt, answer))
        del kept[:-self.keep]
