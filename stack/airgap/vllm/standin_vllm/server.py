"""llama.cpp's OpenAI server (llama_cpp.server) behind what vLLM adds and the stack relies on: GET /health, a 404
in vLLM's words for a model it does not serve, a 400 for a request without messages, and one access-log line
per request (uvicorn's). Every served name (--served-model-name, as vLLM's flag) is an alias of the one GGUF.

VLLM_STANDIN_DONE=off drops the final `data: [DONE]` of every stream: a fault the gate must catch.
"""

from __future__ import annotations

import argparse
import json
import os
from collections.abc import Callable

ROUTES_WITH_MODEL = ("/v1/chat/completions", "/v1/completions", "/v1/embeddings")


def error(status: int, kind: str, message: str) -> tuple[int, bytes]:
    """vLLM's error body (ErrorResponse) with its status."""
    return status, json.dumps({"error": {"message": message, "type": kind, "param": None, "code": status},
                               "object": "error", "message": message, "type": kind, "code": status}).encode()


class VLLMFront:
    """ASGI middleware: vLLM's /health and request validation in front of llama_cpp.server's app."""

    def __init__(self, app: Callable, served: list[str], drop_done: bool = False, weights: str = "",
                 max_model_len: int = 2048) -> None:
        self.app, self.served, self.drop_done = app, served, drop_done
        self.weights, self.max_model_len = weights, max_model_len

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope["path"]
        if path == "/health":
            await respond(send, 200, b"")
            return
        if path == "/version":
            await respond(send, 200, json.dumps({"version": "stand-in (llama.cpp), not vLLM"}).encode())
            return
        if path == "/v1/models":  # answered here: llama.cpp's server holds its model lock while it generates
            await respond(send, 200, json.dumps(self.models()).encode())
            return
        if scope["method"] == "POST" and path in ROUTES_WITH_MODEL:
            raw = b""
            while True:
                message = await receive()
                raw += message.get("body", b"")
                if not message.get("more_body"):
                    break
            problem = self.problem(path, raw)
            if problem is not None:
                await respond(send, *problem)
                return
            receive = replayed(as_llama_cpp(raw), receive)
        if self.drop_done:
            send = without_done(send)
        await self.app(scope, receive, send)

    def models(self) -> dict:
        """vLLM's model list (its ModelCard fields): each served name with `root`, the weights it answers from."""
        return {"object": "list", "data": [
            {"id": name, "object": "model", "created": 0, "owned_by": "stackgate stand-in (llama.cpp), not vLLM",
             "root": self.weights, "parent": None, "max_model_len": self.max_model_len, "permission": []}
            for name in self.served]}

    def problem(self, path: str, raw: bytes) -> tuple[int, bytes] | None:
        try:
            body = json.loads(raw or b"null")
        except ValueError as exc:
            return error(400, "BadRequestError", f"invalid JSON: {exc}")
        if not isinstance(body, dict):
            return error(400, "BadRequestError", "the request body must be a JSON object")
        model = body.get("model")
        if model not in self.served:
            return error(404, "NotFoundError", f"The model `{model}` does not exist.")
        if path == "/v1/chat/completions" and not body.get("messages"):
            return error(400, "BadRequestError", "messages: field required (a non-empty list)")
        return None


def as_llama_cpp(raw: bytes) -> bytes:
    """vLLM's request fields in llama.cpp's server's words: a `json_schema` response format becomes json_object with
    its schema (grammar-constrained, as vLLM's guided decoding), `repetition_penalty` becomes `repeat_penalty`."""
    body = json.loads(raw)
    rf = body.get("response_format") or {}
    if rf.get("type") == "json_schema":
        body["response_format"] = {"type": "json_object", "schema": (rf.get("json_schema") or {}).get("schema")}
    if "repetition_penalty" in body:
        body["repeat_penalty"] = body.pop("repetition_penalty")
    return json.dumps(body).encode()


def replayed(raw: bytes, receive: Callable) -> Callable:
    """A receive that hands the app the body already read, then the client's later messages (a disconnect)."""
    sent = [False]

    async def replay() -> dict:
        if not sent[0]:
            sent[0] = True
            return {"type": "http.request", "body": raw, "more_body": False}
        return await receive()
    return replay


def without_done(send: Callable) -> Callable:
    async def filtered(message: dict) -> None:
        if message["type"] == "http.response.body" and b"data: [DONE]" in message.get("body", b""):
            message = {**message, "body": message["body"].replace(b"data: [DONE]\r\n\r\n", b"")
                       .replace(b"data: [DONE]\n\n", b"")}
        await send(message)
    return filtered


async def respond(send: Callable, status: int, body: bytes) -> None:
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="vLLM stand-in (llama.cpp's OpenAI server); NOT vLLM")
    parser.add_argument("--model", required=True, help="the GGUF to serve")
    parser.add_argument("--served-model-name", nargs="+", required=True, help="the names it answers to (as vLLM)")
    parser.add_argument("--host", default="0.0.0.0")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--max-model-len", type=int, default=2048)
    args = parser.parse_args(argv)
    import uvicorn
    from llama_cpp.server.app import create_app
    from llama_cpp.server.settings import ModelSettings, ServerSettings

    threads = max(1, len(os.sched_getaffinity(0)))
    models = [ModelSettings(model=args.model, model_alias=name, n_ctx=args.max_model_len, n_threads=threads,
                            n_threads_batch=threads, verbose=False) for name in args.served_model_name]
    # queue concurrent requests as vLLM does (llama.cpp's server would otherwise cancel a running stream)
    app = create_app(server_settings=ServerSettings(host=args.host, port=args.port, interrupt_requests=False),
                     model_settings=models)
    print(f"vLLM stand-in (llama.cpp's OpenAI server, NOT vLLM): serving {args.model} as "
          f"{', '.join(args.served_model_name)} on {args.host}:{args.port} with {threads} thread(s)", flush=True)
    front = VLLMFront(app, args.served_model_name, os.environ.get("VLLM_STANDIN_DONE", "on") == "off",
                      weights=args.model, max_model_len=args.max_model_len)
    uvicorn.run(front, host=args.host, port=args.port, log_level="info", access_log=True)


if __name__ == "__main__":
    main()
