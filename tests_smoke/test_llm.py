"""LLM queries respond: RAG, notes and NER each answer through the LLM Ollama; bad input is refused."""

import pytest

from stackgate.metrics import finding
from stackgate.roundtrip import ask, carries

pytestmark = [pytest.mark.smoke, pytest.mark.metric("llm-queries")]


@pytest.mark.services("rag-service", "client-rag-service", "ollama", "ollama-vision")
def test_rag_answers_from_ingested_text(stack, http, run_facts):
    """Text ingested by client-rag is the context of rag-service's answer."""
    fact = f"The delivery code of {run_facts['vendor']}RAG is {run_facts['number']}7."
    resp = http.post(stack.url("client-rag-service") + "/ingest", json={"id": "llm-rag-" + run_facts["number"],
                                                                         "text": fact})
    assert resp.status_code == 201, finding("llm-queries", "client-rag-service", "201 on /ingest",
                                            f"{resp.status_code} {resp.text[:200]}")
    resp = ask(http, stack.url("rag-service"), f"What is the delivery code of {run_facts['vendor']}RAG?")
    answer = resp.json().get("answer", "") if resp.status_code == 200 else resp.text
    assert carries(answer, f"{run_facts['number']}7"), finding("llm-queries", "rag-service",
                                                        f"an answer containing {run_facts['number']}7", repr(answer[:300]))


@pytest.mark.services("notes-service", "ollama", "postgres")
def test_notes_are_structured_and_stored(stack, http, manifest, run_facts):
    """notes-service turns raw notes into structured notes that keep the notes' facts, and keeps them (read back
    by id, the same content)."""
    text = manifest.roundtrips["notes"]["text"].format(**run_facts)
    resp = http.post(stack.url("notes-service") + "/notes", json={"text": text})
    structured = resp.json().get("structured", "") if resp.status_code == 201 else ""
    assert all(carries(structured, run_facts[k]) for k in ("number", "vendor")), finding(
        "llm-queries", "notes-service", f"201 with structured notes stating {run_facts['number']} and {run_facts['vendor']}",
        f"{resp.status_code} {resp.text[:200]}")
    note = resp.json()
    back = http.get(f"{stack.url('notes-service')}/notes/{note['id']}")
    assert back.status_code == 200 and back.json()["structured"] == note["structured"], finding(
        "llm-queries", "notes-service", f"note {note['id']} stored", f"{back.status_code} {back.text[:200]}")


@pytest.mark.services("ner-graph-service", "ollama", "neo4j")
def test_ner_extracts_entities_as_json(stack, http, run_facts):
    """ner-graph-service extracts entities (the LLM's JSON output) from free text."""
    resp = http.post(stack.url("ner-graph-service") + "/extract",
                     json={"text": f"Order {run_facts['number']} was shipped by {run_facts['vendor']}.",
                           "document_id": "llm-ner-" + run_facts["number"]})
    names = {e["name"] for e in resp.json().get("entities", [])} if resp.status_code == 201 else set()
    assert run_facts["number"] in names, finding("llm-queries", "ner-graph-service",
                                                 f"entity {run_facts['number']}", f"{resp.status_code} {resp.text[:200]}")


@pytest.mark.parametrize("service,path,body", [("rag-service", "/ask", {"question": " "}),
                                               ("notes-service", "/notes", {"text": ""}),
                                               ("ner-graph-service", "/extract", {"text": ""})])
def test_empty_input_is_refused_with_a_json_error(stack, http, service, path, body):
    """An empty question/note/text gets a 400 whose JSON names the problem."""
    resp = http.post(stack.url(service) + path, json=body)
    assert resp.status_code == 400 and "empty" in resp.json().get("error", ""), finding(
        "llm-queries", service, "400 with an error naming the empty input", f"{resp.status_code} {resp.text[:200]}")
