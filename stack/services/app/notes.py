"""notes-service (8100): raw notes -> structured notes with the LLM, kept in Postgres."""

from __future__ import annotations

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
SYSTEM = ("You turn raw notes into structured notes: one bullet per point, keeping every name and number exactly "
          "as written.")
EXAMPLES = [("Notes: Called Globex on Tuesday. Pay invoice 3381 next week.",
             "- Called Globex on Tuesday.\n- Pay invoice 3381 next week.")]


def create_app() -> Starlette:
    (llm, url, url_var), model = llm_from_env(), env("OLLAMA_MODEL")

    @json_errors
    async def create(request: Request) -> Response:
        text = str((await read_json(request)).get("text", "")).strip()
        if not text:
            raise ServiceError(400, "empty note: send {\"text\": \"...\"}")
        structured = await llm.chat(model, conversation(SYSTEM, EXAMPLES, f"Notes: {text}"), options=COPYING)
        note_id = uuid.uuid4().hex
        conn = await pg_connect()
        async with conn:
            await conn.execute("INSERT INTO notes (id, raw, structured, model) VALUES (%s, %s, %s, %s)",
                               (note_id, text, structured, model))
        return JSONResponse({"id": note_id, "raw": text, "structured": structured, "model": model}, status_code=201)

    @json_errors
    async def read(request: Request) -> Response:
        conn = await pg_connect()
        async with conn:
            cur = await conn.execute("SELECT id, raw, structured, model FROM notes WHERE id = %s",
                                     (request.path_params["id"],))
            row = await cur.fetchone()
        if row is None:
            raise ServiceError(404, f"no note {request.path_params['id']}")
        return JSONResponse(dict(zip(("id", "raw", "structured", "model"), row)))

    health = health_handler("notes-service", {url_var: url}, {"OLLAMA_MODEL": model}, {"postgres": pg_ping})
    return Starlette(routes=[Route("/health", health), Route("/notes", create, methods=["POST"]),
                             Route("/notes/{id}", read)], lifespan=on_startup(lambda: pg_schema(DDL)))


if __name__ == "__main__":
    serve(create_app(), 8100)
