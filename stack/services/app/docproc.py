"""doc-processor (8101): document -> vision text -> LLM summary -> Postgres, job in Redis,
text to client-rag (ingest) and ner-graph (entities). Nothing is stored unless every step worked."""

from __future__ import annotations

import logging
import os
import uuid

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from .common import (
    COPYING,
    TIMEOUT,
    Ollama,
    ServiceError,
    conversation,
    env,
    health_handler,
    json_errors,
    llm_from_env,
    on_startup,
    serve,
)
from .stores import pg_connect, pg_ping, pg_schema, redis_client, redis_ping
from .uploads import page_images, read_upload

log = logging.getLogger("doc-processor")
DDL = """CREATE TABLE IF NOT EXISTS documents (
  id TEXT PRIMARY KEY, filename TEXT NOT NULL, kind TEXT NOT NULL, pages INT NOT NULL,
  text TEXT NOT NULL, summary TEXT NOT NULL, entities JSONB NOT NULL DEFAULT '[]',
  created_at TIMESTAMPTZ NOT NULL DEFAULT now())"""
VISION_PROMPT = "Read this document image and return all the text it contains, exactly as written."
SUMMARY_SYSTEM = "You summarize documents in one or two sentences, stating every number and name exactly as written."
SUMMARY_EXAMPLES = [("Text: FLIGHT 2120 NORTHWIND AIR", "This is flight 2120 from NORTHWIND AIR."),  # see rag
                    ("Text: LIBRARY CARD 1734 SUNVALE COLLEGE", "This is library card 1734 from SUNVALE COLLEGE.")]
COLUMNS = ("id", "filename", "kind", "pages", "text", "summary", "entities")


async def post_json(url: str, payload: dict, what: str) -> dict:
    try:
        async with httpx.AsyncClient(timeout=TIMEOUT) as client:
            resp = await client.post(url, json=payload)
    except httpx.HTTPError as exc:
        raise ServiceError(502, f"{what} unreachable at {url}: {exc}") from exc
    if resp.status_code >= 300:
        raise ServiceError(502, f"{what} answered {resp.status_code}: {resp.text[:200]}")
    return resp.json()


def create_app() -> Starlette:
    vision_url, vision_model = env("VISION_OLLAMA_URL"), env("VISION_MODEL")
    (llm, llm_url, llm_var), llm_model = llm_from_env(), env("LLM_MODEL")
    rag_url = os.environ.get("CLIENT_RAG_URL", "http://client-rag-service:8105").rstrip("/")
    ner_url = os.environ.get("NER_GRAPH_URL", "http://ner-graph-service:8108").rstrip("/")
    vision = Ollama(vision_url, "VISION_OLLAMA_URL")

    @json_errors
    async def upload(request: Request) -> Response:
        import json

        filename, data, kind = await read_upload(request)
        doc_id = uuid.uuid4().hex
        jobs = redis_client()
        try:
            await jobs.hset(f"job:{doc_id}", mapping={"status": "processing", "filename": filename})
            try:
                pages = page_images(data, kind)
                text = "\n".join([await vision.see(vision_model, VISION_PROMPT, p) for p in pages]).strip()
                summary = await llm.chat(llm_model, conversation(SUMMARY_SYSTEM, SUMMARY_EXAMPLES, f"Text: {text}"),
                                         options=COPYING)
                await post_json(f"{rag_url}/ingest", {"id": doc_id, "text": text,
                                                      "metadata": {"filename": filename}}, "client-rag-service")
                ner = await post_json(f"{ner_url}/extract", {"document_id": doc_id, "text": text},
                                      "ner-graph-service")
                conn = await pg_connect()
                async with conn:
                    await conn.execute(
                        "INSERT INTO documents (id, filename, kind, pages, text, summary, entities) "
                        "VALUES (%s, %s, %s, %s, %s, %s, %s)",
                        (doc_id, filename, kind, len(pages), text, summary, json.dumps(ner["entities"])))
            except ServiceError as exc:
                await jobs.hset(f"job:{doc_id}", mapping={"status": "failed", "error": exc.message})
                raise
            await jobs.hset(f"job:{doc_id}", mapping={"status": "done"})
        finally:
            await jobs.aclose()
        log.info("document %s (%s, %d page(s)) processed", doc_id, kind, len(pages))
        return JSONResponse({"id": doc_id, "filename": filename, "kind": kind, "pages": len(pages), "text": text,
                             "summary": summary, "entities": ner["entities"]}, status_code=201)

    @json_errors
    async def read(request: Request) -> Response:
        doc_id = request.path_params["id"]
        conn = await pg_connect()
        async with conn:
            cur = await conn.execute(f"SELECT {', '.join(COLUMNS)} FROM documents WHERE id = %s", (doc_id,))
            row = await cur.fetchone()
        if row is None:
            raise ServiceError(404, f"no document {doc_id}")
        return JSONResponse(dict(zip(COLUMNS, row)))

    @json_errors
    async def job(request: Request) -> Response:
        jobs = redis_client()
        try:
            state = await jobs.hgetall(f"job:{request.path_params['id']}")
        finally:
            await jobs.aclose()
        if not state:
            raise ServiceError(404, f"no job {request.path_params['id']}")
        return JSONResponse(state)

    health = health_handler(
        "doc-processor",
        {"VISION_OLLAMA_URL": vision_url, llm_var: llm_url, "CLIENT_RAG_URL": rag_url, "NER_GRAPH_URL": ner_url},
        {"VISION_MODEL": vision_model, "LLM_MODEL": llm_model}, {"postgres": pg_ping, "redis": redis_ping, llm_var: llm.ping, "VISION_OLLAMA_URL": vision.ping})
    return Starlette(routes=[Route("/health", health), Route("/documents", upload, methods=["POST"]),
                             Route("/documents/{id}", read), Route("/jobs/{id}", job)],
                     lifespan=on_startup(lambda: pg_schema(DDL)))


if __name__ == "__main__":
    serve(create_app(), 8101)
