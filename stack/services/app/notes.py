"""notes-service (8100): raw notes -> structured notes with the LLM, kept in Postgres."""

from __future__ import annotations

import json
import re
import uuid

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from .common import (
    COPYING,
    ServiceError,
    conversation,
    env,
    health_handler,
    json_errors,
    llm_from_env,
    on_startup,
    read_json,
    serve,
)
from .stores import pg_connect, pg_ping, pg_schema

DDL = """CREATE TABLE IF NOT EXISTS notes (
  id TEXT PRIMARY KEY, raw TEXT NOT NULL, structured TEXT NOT NULL, model TEXT NOT NULL,
  created_at TIMESTAMPTZ NOT NULL DEFAULT now())"""
SYSTEM = ("You turn raw notes into structured notes: one point per fact, keeping every name and number exactly "
          "as written. Answer with JSON only.")
EXAMPLES = [("Notes: Saw NORTHWIND AIR on Tuesday. Book room 2381 for next week.",
             json.dumps({"points": ["Saw NORTHWIND AIR on Tuesday.", "Book room 2381 for next week."]}))]
MAX_WORDS = 200  # a longer note is structured without the vocabulary bound: the grammar grows with the note
# (measured: llama.cpp refused a grammar of a 1400-word note and its server crashed)
MAX_SENTENCES = 8  # a note of more sentences gets the note's words for every point (the grammar grows per sentence)
MAX_POINT_WORDS = 40  # the words of one point, at most (bounds the grammar and a point that would repeat forever)
SEPARATORS = "[ .,;:!?'()/&+-]{1,4}"  # what may stand between two words of a point: a few marks, never a run that
# repeats until the token limit cuts the JSON off (seen once in CI: a point ending "7379. (). (). (). …")


def schema_for(text: str) -> dict:
    """The answer's shape, enforced by the LLM server's grammar: {"points": [...]}, one point per sentence of the
    note, in order, each made of its sentence's own words (as written: same letters, same case) and punctuation,
    so a name or number is copied, never retyped (measured with the stand-in weights: free text dropped or doubled
    a letter of a name in 2-5 of 300 notes), and no sentence is skipped or told twice (the model once wrote the
    second sentence twice and left the first out). A long note (over MAX_SENTENCES sentences or MAX_WORDS words)
    gets at most one point per sentence, each of the note's words."""
    words = re.findall(r"\w+", text)
    sentences = [s for s in re.split(r"[.;!?\n]+", text) if re.search(r"\w", s)]
    if not 0 < len(words) <= MAX_WORDS:
        return _points({"type": "array", "minItems": 1, "maxItems": max(1, len(sentences)), "items": {"type": "string"}})
    if len(sentences) > MAX_SENTENCES:
        return _points({"type": "array", "minItems": 1, "maxItems": len(sentences), "items": _made_of(words)})
    each = [_made_of(re.findall(r"\w+", sentence)) for sentence in sentences]
    return _points({"type": "array", "minItems": len(each), "maxItems": len(each), "prefixItems": each, "items": False})


def _made_of(words: list[str]) -> dict:
    """A point made of these words (each at most MAX_POINT_WORDS times in a row) and separators."""
    word = "(" + "|".join(dict.fromkeys(words)) + ")"
    more = min(max(len(words), 1), MAX_POINT_WORDS) - 1
    return {"type": "string", "pattern": f"^({SEPARATORS})?{word}({SEPARATORS}{word}){{0,{more}}}({SEPARATORS})?$"}


def _points(array: dict) -> dict:
    return {"type": "object", "required": ["points"], "properties": {"points": array}}


def bullets(raw: str) -> str:
    """The model's JSON answer as bullet lines; 502 when it is not the promised JSON."""
    try:
        points = json.loads(raw)["points"]
    except (ValueError, KeyError, TypeError) as exc:
        raise ServiceError(502, f"the LLM did not return the promised JSON: {raw[:120]!r}") from exc
    return "\n".join(f"- {str(p).strip()}" for p in points if str(p).strip())


def points_of(structured: str) -> list[str]:
    """The points of structured notes (their bullet lines)."""
    return [line[2:] for line in structured.splitlines() if line.startswith("- ")]


def create_app() -> Starlette:
    (llm, url, url_var), model = llm_from_env(), env("OLLAMA_MODEL")

    @json_errors
    async def create(request: Request) -> Response:
        text = str((await read_json(request)).get("text", "")).strip()
        if not text:
            raise ServiceError(400, "empty note: send {\"text\": \"...\"}")
        structured = bullets(await llm.chat(model, conversation(SYSTEM, EXAMPLES, f"Notes: {text}"),
                                            fmt=schema_for(text), options=COPYING))
        note_id = uuid.uuid4().hex
        conn = await pg_connect()
        async with conn:
            await conn.execute("INSERT INTO notes (id, raw, structured, model) VALUES (%s, %s, %s, %s)",
                               (note_id, text, structured, model))
        return JSONResponse({"id": note_id, "raw": text, "structured": structured, "points": points_of(structured),
                             "model": model}, status_code=201)

    @json_errors
    async def read(request: Request) -> Response:
        conn = await pg_connect()
        async with conn:
            cur = await conn.execute("SELECT id, raw, structured, model FROM notes WHERE id = %s",
                                     (request.path_params["id"],))
            row = await cur.fetchone()
        if row is None:
            raise ServiceError(404, f"no note {request.path_params['id']}")
        note = dict(zip(("id", "raw", "structured", "model"), row))
        return JSONResponse({**note, "points": points_of(note["structured"])})

    health = health_handler("notes-service", {url_var: url}, {"OLLAMA_MODEL": model}, {"postgres": pg_ping, url_var: llm.ping})
    return Starlette(routes=[Route("/health", health), Route("/notes", create, methods=["POST"]),
                             Route("/notes/{id}", read)], lifespan=on_startup(lambda: pg_schema(DDL)))


if __name__ == "__main__":
    serve(create_app(), 8100)
