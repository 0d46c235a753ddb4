"""ocr-service (8104): the text of an uploaded image or PDF, read by the vision model."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from .common import Ollama, env, health_handler, json_errors, serve
from .uploads import page_images, read_upload

PROMPT = "Read this image and return all the text it contains, exactly as written."


def create_app() -> Starlette:
    url, model = env("VISION_OLLAMA_URL"), env("VISION_MODEL")
    vision = Ollama(url, "VISION_OLLAMA_URL")

    @json_errors
    async def ocr(request: Request) -> Response:
        filename, data, kind = await read_upload(request)
        texts = [await vision.see(model, PROMPT, page) for page in page_images(data, kind)]
        return JSONResponse({"filename": filename, "type": kind, "text": "\n".join(texts), "model": model})

    # its one dependency is the vision Ollama: /health reports it, so the healthcheck can fail on it
    health = health_handler("ocr-service", {"VISION_OLLAMA_URL": url}, {"VISION_MODEL": model}, {"VISION_OLLAMA_URL": vision.ping})
    return Starlette(routes=[Route("/health", health), Route("/ocr", ocr, methods=["POST"])])


if __name__ == "__main__":
    serve(create_app(), 8104)
