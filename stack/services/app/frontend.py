"""frontend (3000): the web UI (every asset served from here) and a same-origin proxy to the services."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Awaitable, Callable
from functools import partial
from pathlib import Path

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response, StreamingResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from .common import TIMEOUT, health_handler, serve

STATIC = Path(__file__).parent / "static"
SERVICES = {
    "notes": ("notes-service", "NOTES_URL", "http://notes-service:8100"),
    "doc": ("doc-processor", "DOC_PROCESSOR_URL", "http://doc-processor:8101"),
    "rag": ("rag-service", "RAG_URL", "http://rag-service:8102"),
    "ocr": ("ocr-service", "OCR_URL", "http://ocr-service:8104"),
    "client-rag": ("client-rag-service", "CLIENT_RAG_URL", "http://client-rag-service:8105"),
    "ner": ("ner-graph-service", "NER_GRAPH_URL", "http://ner-graph-service:8108"),
}


def upstream(key: str) -> str:
    _, var, default = SERVICES[key]
    return os.environ.get(var, default).rstrip("/")


async def index(request: Request) -> Response:
    return FileResponse(STATIC / "index.html")


async def favicon(request: Request) -> Response:
    return FileResponse(STATIC / "favicon.ico", media_type="image/x-icon")


async def upstream_ok(key: str) -> None:
    """Raise unless the service behind key answers its /health with 200 (it works, by its own account)."""
    async with httpx.AsyncClient(timeout=3) as client:
        (await client.get(upstream(key) + "/health")).raise_for_status()


def health_endpoint() -> Callable[[Request], Awaitable[Response]]:
    """GET /health: the page works only while every service it proxies works, so each one's /health is a
    dependency of the frontend's."""
    return health_handler("frontend", {v[1]: upstream(k) for k, v in SERVICES.items()}, {},
                          {v[0]: partial(upstream_ok, k) for k, v in SERVICES.items()})


async def services_health(request: Request) -> Response:
    async def one(client: httpx.AsyncClient, key: str) -> dict:
        name = SERVICES[key][0]
        try:
            resp = await client.get(upstream(key) + "/health")
            return {"service": name, "status": resp.json().get("status", "unknown"), "code": resp.status_code}
        except (httpx.HTTPError, ValueError) as exc:
            return {"service": name, "status": "unreachable", "error": type(exc).__name__}

    async with httpx.AsyncClient(timeout=5) as client:
        rows = await asyncio.gather(*(one(client, k) for k in SERVICES))
    return JSONResponse({"services": rows})


async def proxy(request: Request) -> Response:
    key, path = request.path_params["service"], request.path_params["path"]
    if key not in SERVICES:
        return JSONResponse({"error": f"unknown service {key!r}"}, status_code=404)
    headers = {k: v for k, v in request.headers.items() if k.lower() in ("content-type", "accept")}
    if path.endswith("/stream"):  # an answer sent as it is produced: passed on as it arrives
        return await proxy_stream(request, key, path, headers)
    try:
        async with httpx.AsyncClient(timeout=TIMEOUT) as client:
            resp = await client.request(request.method, f"{upstream(key)}/{path}", content=await request.body(),
                                        headers=headers, params=request.query_params)
    except httpx.HTTPError as exc:
        return JSONResponse({"error": f"{SERVICES[key][0]} unreachable: {exc}"}, status_code=502)
    return Response(resp.content, status_code=resp.status_code,
                    media_type=resp.headers.get("content-type", "application/json"))


async def proxy_stream(request: Request, key: str, path: str, headers: dict) -> Response:
    client = httpx.AsyncClient(timeout=TIMEOUT)
    try:
        upstream_req = client.build_request(request.method, f"{upstream(key)}/{path}", content=await request.body(),
                                            headers=headers, params=request.query_params)
        resp = await client.send(upstream_req, stream=True)
    except httpx.HTTPError as exc:
        await client.aclose()
        return JSONResponse({"error": f"{SERVICES[key][0]} unreachable: {exc}"}, status_code=502)

    async def body() -> AsyncIterator[bytes]:
        try:
            async for chunk in resp.aiter_raw():
                yield chunk
        finally:
            await resp.aclose()
            await client.aclose()
    return StreamingResponse(body(), status_code=resp.status_code,
                             media_type=resp.headers.get("content-type", "text/event-stream"))


def create_app() -> Starlette:
    return Starlette(routes=[
        Route("/", index), Route("/favicon.ico", favicon), Route("/health", health_endpoint()),
        Route("/api/services", services_health),
        Route("/api/{service}/{path:path}", proxy, methods=["GET", "POST"]),
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
    ])


if __name__ == "__main__":
    serve(create_app(), 3000)
