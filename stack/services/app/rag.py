"""rag-service (8102): answers a question with the LLM from context found by client-rag."""

from __future__ import annotations

import json
import os
import time

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from .common import TIMEOUT, Ollama, ServiceError, env, health_handler, json_errors, read_json, serve
from .stores import redis_client, redis_ping

PROMPT = ("Answer the question using only the context. If the context does not contain the answer, say so.\n"
          "Context: {context}\nQuestion: {question}")


def create_app() -> Starlette:
    url, model = env("OLLAMA_URL"), env("OLLAMA_MODEL")
    rag_url = os.environ.get("CLIENT_RAG_URL", "http://client-rag-service:8105").rstrip("/")
    # the model gets the best chunk only: a small model answers one context line right, and is confused by
    # distractors (measured: 30/30 with one line, 11/30 with three)
    top_k = int(os.environ.get("RAG_TOP_K", "1"))
    llm = Ollama(url, "OLLAMA_URL")

    async def client_rag_ping() -> None:
        async with httpx.AsyncClient(timeout=3) as client:
            (await client.get(rag_url + "/health")).raise_for_status()

    @json_errors
    async def ask(request: Request) -> Response:
        data = await read_json(request)
        question = str(data.get("question", "")).strip()
        if not question:
            raise ServiceError(400, "empty question: send {\"question\": \"...\"}")
        try:
            async with httpx.AsyncClient(timeout=TIMEOUT) as client:
                resp = await client.post(rag_url + "/search", json={"query": question, "k": int(data.get("k", top_k))})
        except httpx.HTTPError as exc:
            raise ServiceError(502, f"client-rag-service unreachable at {rag_url}: {exc}") from exc
        if resp.status_code != 200:
            raise ServiceError(502, f"client-rag-service answered {resp.status_code}: {resp.text[:200]}")
        hits = resp.json()["results"]
        if not hits:
            return JSONResponse({"question": question, "answer": "No documents have been ingested yet.",
                                 "sources": [], "model": model})
        context = "\n".join(h["text"] for h in hits)
        answer = await llm.generate(model, PROMPT.format(context=context, question=question))
        record = {"question": question, "answer": answer, "at": time.time()}
        cache = redis_client()
        try:
            await cache.lpush("rag:history", json.dumps(record))
            await cache.ltrim("rag:history", 0, 99)
        finally:
            await cache.aclose()
        sources = [{"document_id": h["document_id"], "text": h["text"], "score": h["score"]} for h in hits]
        return JSONResponse({"question": question, "answer": answer, "sources": sources, "model": model})

    health = health_handler("rag-service", {"OLLAMA_URL": url, "CLIENT_RAG_URL": rag_url},
                            {"OLLAMA_MODEL": model}, {"redis": redis_ping, "client-rag-service": client_rag_ping})
    return Starlette(routes=[Route("/health", health), Route("/ask", ask, methods=["POST"])])


if __name__ == "__main__":
    serve(create_app(), 8102)
