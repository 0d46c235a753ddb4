"""ner-graph-service (8108): entities extracted by the LLM (JSON output), MERGEd into Neo4j."""

from __future__ import annotations

import json
import re

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from .common import COPYING, ServiceError, conversation, env, health_handler, json_errors, llm_from_env, read_json, serve
from .stores import Neo4jHTTP

TYPES = ["ORGANIZATION", "PERSON", "LOCATION", "DATE", "NUMBER", "PRODUCT"]
NUMERIC_TYPES = ["NUMBER", "DATE"]  # the types a span of numbers may have
MAX_SPAN_WORDS = 3  # an entity's name is at most this many consecutive words of the text
MAX_SPANS = 400  # a longer text offers its first spans only (the grammar grows with the list)


def spans(text: str) -> list[str]:
    """The names an entity may have: runs of up to MAX_SPAN_WORDS consecutive words of the text, as written
    (edge punctuation dropped), first occurrence first. A number or code is an entity of its own: a run is all
    words or all numbers, never both (the model once named "WAYBILL 7445" where the number was the entity)."""
    tokens = [t.strip(".,;:!?()[]{}\"'") for t in text.split()]
    out: dict[str, None] = {}
    for i in range(len(tokens)):
        for j in range(i + 1, min(i + MAX_SPAN_WORDS, len(tokens)) + 1):
            run = tokens[i:j]
            numeric = {any(c.isdigit() for c in t) for t in run}
            if all(run) and len(numeric) == 1 and len(out) < MAX_SPANS:
                out.setdefault(" ".join(run)[:60], None)
    return list(out)


def schema_for(text: str) -> dict:
    """The answer's shape, enforced by the Ollama (format = this JSON schema: llama.cpp's grammar), not asked
    for: a list of entities whose names are spans of this very text, so a name is copied, never retyped, and
    whose type goes with its name: a NUMBER (or a DATE) is named by a span of numbers, any other type by a span
    of words (the model once typed "WAYBILL" a NUMBER and left the number out)."""
    names = spans(text)
    numeric = [n for n in names if any(c.isdigit() for c in n)]
    wordy = [n for n in names if n not in numeric]

    def kind(types: list[str], allowed: list[str]) -> dict:
        return {"type": "object", "required": ["type", "name"],
                "properties": {"type": {"type": "string", "enum": types},
                               "name": {"type": "string", "enum": allowed}}}
    if not names:
        item = {"type": "object", "required": ["type", "name"],
                "properties": {"type": {"type": "string", "enum": TYPES}, "name": {"type": "string", "maxLength": 60}}}
    else:
        item = {"anyOf": [kind(NUMERIC_TYPES, numeric)] * bool(numeric)
                + [kind([t for t in TYPES if t not in ("NUMBER",)], wordy)] * bool(wordy)}
        if len(item["anyOf"]) == 1:
            item = item["anyOf"][0]
    return {"type": "object", "required": ["entities"], "properties": {"entities": {
        "type": "array", "maxItems": 8, "items": item}}}


SYSTEM = ("You extract named entities: every number or code, each on its own, and the organisations, people, places "
          "and dates. Each entity's name is copied exactly from the text. Answer with JSON only.")
EXAMPLES = [("Room 1234 was booked by Lena Fischer in Paris.",
             [("1234", "NUMBER"), ("Lena Fischer", "PERSON"), ("Paris", "LOCATION")]),
            ("FLIGHT 2678 NORTHWIND AIR", [("2678", "NUMBER"), ("NORTHWIND AIR", "ORGANIZATION")]),
            ("BADGE 3391 HOLDER LENA FISCHER", [("3391", "NUMBER"), ("LENA FISCHER", "PERSON")])]
MERGE = ("MERGE (d:Document {id: $document_id}) WITH d UNWIND $entities AS ent "
         "MERGE (e:Entity {name: ent.name}) SET e.type = ent.type MERGE (d)-[:MENTIONS]->(e)")
LIST_ALL = "MATCH (e:Entity) RETURN e.name AS name, e.type AS type ORDER BY name"
LIST_DOC = ("MATCH (:Document {id: $document_id})-[:MENTIONS]->(e:Entity) "
            "RETURN e.name AS name, e.type AS type ORDER BY name")


def messages(text: str) -> list[dict]:
    """The extraction as a conversation: the instruction, the worked examples, then the text."""
    shown = [(f"Text: {example}", json.dumps({"entities": [{"type": t, "name": n} for n, t in ents]}))
             for example, ents in EXAMPLES]
    return conversation(SYSTEM, shown, f"Text: {text}")


def words(text: str) -> str:
    """Text as its words: lower case, punctuation dropped, single spaces, padded with one space."""
    return " " + " ".join(re.sub(r"[^\w\s]", " ", text.lower()).split()) + " "


def grounded(entities: list[dict], text: str) -> list[dict]:
    """The entities whose name the text states (case, spacing and punctuation aside): no invented ones."""
    said = words(text)
    return [e for e in entities if words(e["name"]).strip() and words(e["name"]) in said]


def parse_entities(raw: str) -> list[dict]:
    """The entity list of the model's JSON answer; 502 when it is not the promised JSON."""
    try:
        data = json.loads(raw)
    except ValueError as exc:
        raise ServiceError(502, f"the LLM did not return JSON: {raw[:120]!r}") from exc
    items = data.get("entities", []) if isinstance(data, dict) else data
    out, seen = [], set()
    for item in items if isinstance(items, list) else []:
        if isinstance(item, dict) and str(item.get("name", "")).strip():
            name = str(item["name"]).strip()
            if name.lower() not in seen:
                seen.add(name.lower())
                out.append({"name": name, "type": str(item.get("type") or "UNKNOWN")})
    return out


def create_app() -> Starlette:
    (llm, url, url_var), model = llm_from_env(), env("OLLAMA_MODEL")
    graph = Neo4jHTTP()

    @json_errors
    async def extract(request: Request) -> Response:
        data = await read_json(request)
        text = str(data.get("text", "")).strip()
        if not text:
            raise ServiceError(400, "empty text: send {\"text\": \"...\", \"document_id\": \"...\"}")
        doc_id = str(data.get("document_id") or "adhoc")
        entities = grounded(parse_entities(await llm.chat(model, messages(text), fmt=schema_for(text), options=COPYING)), text)
        if entities:
            await graph.run((MERGE, {"document_id": doc_id, "entities": entities}))
        return JSONResponse({"document_id": doc_id, "entities": entities, "model": model}, status_code=201)

    @json_errors
    async def listing(request: Request) -> Response:
        doc_id = request.query_params.get("document_id")
        (rows,) = await graph.run((LIST_DOC, {"document_id": doc_id}) if doc_id else (LIST_ALL, {}))
        return JSONResponse({"document_id": doc_id, "entities": rows})

    health = health_handler("ner-graph-service", {url_var: url, "NEO4J_URL": graph.url},
                            {"OLLAMA_MODEL": model}, {"neo4j": graph.ping, url_var: llm.ping})
    return Starlette(routes=[Route("/health", health), Route("/extract", extract, methods=["POST"]),
                             Route("/entities", listing)])


if __name__ == "__main__":
    serve(create_app(), 8108)
