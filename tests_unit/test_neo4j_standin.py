"""The Neo4j stand-in: Neo4j's HTTP API over embedded FalkorDB (MERGE, MATCH, parameters, errors, auth)."""

from __future__ import annotations

import pytest

AUTH = ("neo4j", "s3cret")


@pytest.fixture(scope="module")
def neo4j(tmp_path_factory):
    mp = pytest.MonkeyPatch()
    mp.setenv("NEO4J_DATA", str(tmp_path_factory.mktemp("neo4j")))
    mp.setenv("NEO4J_AUTH", "/".join(AUTH))
    mp.setenv("FALKORDB_PORT", "16399")
    from starlette.testclient import TestClient  # noqa: PLC0415

    from standin_neo4j import server  # noqa: PLC0415

    with TestClient(server.create_app()) as client:
        yield client
    mp.undo()


def commit(client, statement, parameters=None, auth=AUTH):
    return client.post("/db/neo4j/tx/commit", auth=auth,
                       json={"statements": [{"statement": statement, "parameters": parameters or {}}]})


def test_discovery_names_the_stand_in(neo4j):
    body = neo4j.get("/").json()
    assert "transaction" in body and "stand-in" in body["neo4j_edition"]


def test_merge_is_idempotent_and_match_reads_it_back_with_parameters(neo4j):
    stmt = "MERGE (d:Document {id: $id}) MERGE (e:Entity {name: $name}) MERGE (d)-[:MENTIONS]->(e)"
    for _ in range(2):
        assert commit(neo4j, stmt, {"id": "d1", "name": "ACME"}).json()["errors"] == []
    body = commit(neo4j, "MATCH (:Document {id: $id})-[:MENTIONS]->(e:Entity) RETURN e.name AS name",
                  {"id": "d1"}).json()
    assert body["results"][0]["columns"] == ["name"]
    assert [r["row"] for r in body["results"][0]["data"]] == [["ACME"]]


def test_nodes_come_back_as_property_maps_with_node_meta(neo4j):
    commit(neo4j, "MERGE (:Thing {k: 1})")
    row = commit(neo4j, "MATCH (t:Thing) RETURN t").json()["results"][0]["data"][0]
    assert row["row"] == [{"k": 1}] and row["meta"][0]["type"] == "node"


def test_a_syntax_error_is_reported_in_neo4js_shape(neo4j):
    body = commit(neo4j, "MATCH (n RETURN n").json()
    assert body["results"] == []
    assert body["errors"][0]["code"] == "Neo.ClientError.Statement.SyntaxError"


def test_a_wrong_password_is_refused_with_401(neo4j):
    resp = commit(neo4j, "RETURN 1", auth=("neo4j", "wrong"))
    assert resp.status_code == 401
    assert resp.json()["errors"][0]["code"] == "Neo.ClientError.Security.Unauthorized"
