"""Document processing: PNG and PDF with known text -> OCR text -> summary -> stored -> RAG -> graph."""

import pytest

from stackgate.documents import render_png
from stackgate.metrics import finding
from stackgate.roundtrip import ask, carries

pytestmark = [pytest.mark.smoke, pytest.mark.metric("document-processing"),
              pytest.mark.services("doc-processor", "ollama-vision", "ollama", "client-rag-service",
                                   "ner-graph-service")]
KINDS = ["png", "pdf"]


def accepted(processed, kind):
    case, status, body = processed[kind]
    assert status == 201, finding("document-processing", "doc-processor", f"201 for the {kind.upper()} upload",
                                  f"{status} {body}")
    return case, body


@pytest.mark.parametrize("kind", KINDS)
def test_document_text_is_read_by_the_vision_model(processed, kind):
    """The text of an uploaded PNG (and a PDF, rendered to an image) comes back exactly."""
    case, body = accepted(processed, kind)
    for line in case.lines:
        assert line in body["text"], finding("document-processing", "doc-processor",
                                             f"text containing {line!r}", repr(body["text"][:200]))


@pytest.mark.parametrize("kind", KINDS)
def test_document_gets_a_summary_from_the_llm(processed, kind):
    """Every processed document's summary states the document's fact (its invoice number)."""
    case, body = accepted(processed, kind)
    assert carries(body.get("summary", ""), case.fact), finding(
        "document-processing", "doc-processor", f"a summary stating {case.fact}", repr(body.get("summary"))[:300])


@pytest.mark.parametrize("kind", KINDS)
def test_document_is_stored_and_read_back_by_id(processed, kind, stack, http):
    """GET /documents/{id} returns what the upload returned (text and summary)."""
    _, body = accepted(processed, kind)
    resp = http.get(f"{stack.url('doc-processor')}/documents/{body['id']}")
    stored = resp.json()
    assert resp.status_code == 200 and stored["text"] == body["text"] and stored["summary"] == body["summary"], \
        finding("document-processing", "doc-processor", f"document {body['id']} stored", f"{resp.status_code} {stored}")


@pytest.mark.parametrize("kind", KINDS)
def test_document_fact_is_answerable_through_rag(processed, kind, stack, http):
    """A question about the document is answered by rag-service with the document's fact."""
    case, _ = accepted(processed, kind)
    resp = ask(http, stack.url("rag-service"), case.question)
    answer = resp.json().get("answer", "") if resp.status_code == 200 else resp.text
    assert carries(answer, case.fact), finding("document-processing", "rag-service",
                                        f"an answer to {case.question!r} containing {case.fact}", repr(answer[:300]))


@pytest.mark.parametrize("kind", KINDS)
def test_document_entities_are_listed_from_the_graph(processed, kind, stack, http):
    """The document's entities are MERGEd into the graph and listed by ner-graph-service."""
    case, body = accepted(processed, kind)
    resp = http.get(f"{stack.url('ner-graph-service')}/entities", params={"document_id": body["id"]})
    names = {e["name"] for e in resp.json().get("entities", [])} if resp.status_code == 200 else set()
    assert case.fact in names, finding("document-processing", "ner-graph-service",
                                       f"entity {case.fact} for document {body['id']}", f"{resp.status_code} {sorted(names)}")


@pytest.mark.services("ocr-service", "ollama-vision")
def test_ocr_service_reads_a_fresh_image(stack, http, run_facts):
    """ocr-service's own endpoint returns the text of an image made for this run."""
    line = f"RECEIPT {int(run_facts['number']) + 3} {run_facts['vendor']}OCR"
    resp = http.post(stack.url("ocr-service") + "/ocr", files={"file": ("receipt.png", render_png([line]), "image/png")})
    text = resp.json().get("text", "") if resp.status_code == 200 else resp.text
    assert resp.status_code == 200 and carries(text, line), finding(
        "document-processing", "ocr-service", f"200 with text {line!r}", f"{resp.status_code} {text[:200]!r}")
