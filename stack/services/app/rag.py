"""rag-service (8102): answers a question with the LLM from context found by client-rag."""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import AsyncIterator

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from .common import (
    COPYING,
    TIMEOUT,
    ServiceError,
    conversation,
    env,
    health_handler,
    json_errors,
    llm_from_env,
    read_json,
    serve,
)
from .stores import redis_client, redis_ping

log = logging.getLogger(__name__)
SYSTEM = ("You answer questions from the given context only, in one short sentence of your own, quoting names and "
          "numbers exactly as the context writes them. If the context does not contain the answer, say so.")
# The examples' numbers start with 1-3: a small model copies an example's number when the asked one shares its
# first digits (measured: "7677" answered "7734", 2 in 300)
EXAMPLES = [("Context: The badge number of Lena Fischer is 2120.\nQuestion: What is the badge number of Lena Fischer?",
             "The badge number of Lena Fischer is 2120."),
            ("Context: FLIGHT 1734 NORTHWIND AIR\nQuestion: What is the flight number of NORTHWIND AIR?",
             "The flight number of NORTHWIND AIR is 1734."),
            # a line that labels its party's role: without it the model kept the label in the party's name ("The
            # waybill number of WAYBILL 5949 SENDER VANTEX... is 5949.": 26 of 40 such questions; with it 0 of 200;
            # lines without a role 0 of 40 before and after; measured 2026-12-07 on the stand-in's 135M weights)
            ("Context: PERMIT 2315 HOLDER OSKAR LIND\nQuestion: Which permit number was issued to OSKAR LIND?",
             "OSKAR LIND was issued permit number 2315.")]


def messages(context: str, question: str) -> list[dict]:
    return conversation(SYSTEM, EXAMPLES, f"Context: {context}\nQuestion: {question}")


def create_app() -> Starlette:
    (llm, url, url_var), model = llm_from_env(), env("OLLAMA_MODEL")
    rag_url = os.environ.get("CLIENT_RAG_URL", "http://client-rag-service:8105").rstrip("/")
    # the model gets the best chunk only: a small model answers one context line right, and is confused by
    # distractors (measured: 30/30 with one line, 11/30 with three)
    top_k = int(os.environ.get("RAG_TOP_K", "1"))

    async def client_rag_ping() -> None:
        async with httpx.AsyncClient(timeout=3) as client:
            (await client.get(rag_url + "/health")).raise_for_status()

    async def search(question: str, k: int) -> list[dict]:
        """The k chunks client-rag-service finds closest to the question, best first."""
        try:
            async with httpx.AsyncClient(timeout=TIMEOUT) as client:
                resp = await client.post(rag_url + "/search", json={"query": question, "k": k})
        except httpx.HTTPError as exc:
            raise ServiceError(502, f"client-rag-service unreachable at {rag_url}: {exc}") from exc
        if resp.status_code != 200:
            raise ServiceError(502, f"client-rag-service answered {resp.status_code}: {resp.text[:200]}")
        hits = resp.json()["results"]
        return hits

    @json_errors
    async def ask(request: Request) -> Response:
        data = await read_json(request)
        question = str(data.get("question", "")).strip()
        if not question:
            raise ServiceError(400, "empty question: send {\"question\": \"...\"}")
        hits = await search(question, int(data.get("k", top_k)))
        if not hits:
            return JSONResponse({"question": question, "answer": "No documents have been ingested yet.",
                                 "sources": [], "model": model})
        context = "\n".join(h["text"] for h in hits)
        answer = await llm.chat(model, messages(context, question), options=COPYING)
        record = {"question": question, "answer": answer, "at": time.time()}
        cache = redis_client()
        try:
            await cache.lpush("rag:history", json.dumps(record))
            await cache.ltrim("rag:history", 0, 99)
        finally:
            await cache.aclose()
        sources = [{"document_id": h["document_id"], "text": h["text"], "score": h["score"]} for h in hits]
        return JSONResponse({"question": question, "answer": answer, "sources": sources, "model": model})

    @json_errors
    async def ask_stream(request: Request) -> Response:
        """The same answer as /ask, sent as it is produced: server-sent events `{"token": ...}`, then one
        `{"done": true, "answer": ..., "sources": [...]}` (or `{"error": ...}`)."""
        data = await read_json(request)
        question = str(data.get("question", "")).strip()
        if not question:
            raise ServiceError(400, "empty question: send {\"question\": \"...\"}")
        hits = await search(question, int(data.get("k", top_k)))
        sources = [{"document_id": h["document_id"], "text": h["text"], "score": h["score"]} for h in hits]

        async def events() -> AsyncIterator[bytes]:
            if not hits:
                yield sse({"done": True, "answer": "No documents have been ingested yet.", "sources": []})
                return
            parts: list[str] = []
            try:
                async for piece in llm.stream(model, messages("\n".join(h["text"] for h in hits), question),
                                              COPYING):
                    parts.append(piece)
                    yield sse({"token": piece})
            except ServiceError as exc:
                log.error("POST /ask/stream failed: %s", exc.message)
                yield sse({"error": exc.message})
                return
            yield sse({"done": True, "answer": "".join(parts), "sources": sources, "model": model})
        return StreamingResponse(events(), media_type="text/event-stream")

    health = health_handler("rag-service", {url_var: url, "CLIENT_RAG_URL": rag_url},
                            {"OLLAMA_MODEL": model}, {"redis": redis_ping, "client-rag-service": client_rag_ping, url_var: llm.ping})
    return Starlette(routes=[Route("/health", health), Route("/ask", ask, methods=["POST"]),
                             Route("/ask/stream", ask_stream, methods=["POST"])])


def sse(event: dict) -> bytes:
    return f"data: {json.dumps(event)}\n\n".encode()


if __name__ == "__main__":
    serve(create_app(), 8102)
