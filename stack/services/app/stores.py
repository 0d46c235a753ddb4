"""Store clients the services share: Postgres (psycopg), Redis, Neo4j over its HTTP API."""

from __future__ import annotations

import base64
import os
from typing import Any

import httpx
import psycopg
import redis.asyncio as aioredis

from .common import TIMEOUT, ServiceError


def database_url() -> str:
    return os.environ.get("DATABASE_URL", "postgresql://rma@postgres:5432/rma")  # the password: PGPASSWORD


async def pg_connect() -> psycopg.AsyncConnection:
    try:
        return await psycopg.AsyncConnection.connect(database_url(), connect_timeout=5)
    except psycopg.Error as exc:
        raise ServiceError(503, f"postgres unavailable: {str(exc).strip().splitlines()[0]}") from exc


async def pg_ping() -> None:
    conn = await pg_connect()
    async with conn:
        await conn.execute("SELECT 1")


async def pg_schema(ddl: str) -> None:
    """Create the schema; services sharing one database serialise on an advisory lock (concurrent CREATE TABLE IF
    NOT EXISTS races in Postgres: 'duplicate key value violates unique constraint pg_type_typname_nsp_index')."""
    conn = await pg_connect()
    async with conn, conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock(727001)")
        await conn.execute(ddl)


def redis_client() -> aioredis.Redis:
    return aioredis.from_url(os.environ.get("REDIS_URL", "redis://redis:6379/0"), socket_timeout=5,
                             decode_responses=True)


async def redis_ping() -> None:
    client = redis_client()
    try:
        await client.ping()
    finally:
        await client.aclose()


class Neo4jHTTP:
    """Neo4j's transactional HTTP API (`POST /db/{db}/tx/commit`): real Neo4j and the stand-in alike."""

    def __init__(self) -> None:
        self.url = os.environ.get("NEO4J_URL", "http://neo4j:7474").rstrip("/")
        self.db = os.environ.get("NEO4J_DATABASE", "neo4j")
        user, _, password = os.environ.get("NEO4J_AUTH", "neo4j/neo4j").partition("/")
        token = base64.b64encode(f"{user}:{password}".encode()).decode()
        self.headers = {"Authorization": f"Basic {token}", "Accept": "application/json"}

    async def run(self, *statements: tuple[str, dict]) -> list[dict]:
        """Run statements in one transaction; rows of each result as dicts by column."""
        body = {"statements": [{"statement": s, "parameters": p} for s, p in statements]}
        try:
            async with httpx.AsyncClient(timeout=TIMEOUT) as client:
                resp = await client.post(f"{self.url}/db/{self.db}/tx/commit", json=body, headers=self.headers)
        except httpx.HTTPError as exc:
            raise ServiceError(503, f"neo4j unavailable at {self.url}: {exc}") from exc
        if resp.status_code != 200:
            raise ServiceError(503, f"neo4j answered {resp.status_code}: {resp.text[:200]}")
        data: dict[str, Any] = resp.json()
        if data.get("errors"):
            err = data["errors"][0]
            raise ServiceError(500, f"neo4j error {err.get('code')}: {err.get('message')}")
        return [[dict(zip(r["columns"], row["row"])) for row in r["data"]] for r in data["results"]]

    async def ping(self) -> None:
        await self.run(("RETURN 1 AS ok", {}))
