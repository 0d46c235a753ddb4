"""Round-trips through the services: upload a document, ask about it, list its entities, write a note."""

from __future__ import annotations

import re
from dataclasses import dataclass

import httpx

from .documents import render_pdf, render_png
from .manifest import Manifest


@dataclass(frozen=True)
class DocumentCase:
    """A document with known text and the question whose answer must contain the fact."""

    kind: str
    lines: list[str]
    question: str
    fact: str
    vendor: str

    def payload(self) -> tuple[str, bytes, str]:
        if self.kind == "pdf":
            return "invoice.pdf", render_pdf(self.lines), "application/pdf"
        return "invoice.png", render_png(self.lines), "image/png"


def document_case(manifest: Manifest, kind: str, number: str, vendor: str) -> DocumentCase:
    """The manifest's document round-trip, filled with this run's number and vendor."""
    spec = manifest.roundtrips["document"]
    lines = [ln.format(number=number, vendor=vendor) for ln in spec["lines"]]
    return DocumentCase(kind, lines, spec["question"].format(number=number, vendor=vendor), number, vendor)


def normalised(text: str) -> str:
    """Text compared as facts, not sentences: lower case, punctuation dropped, whitespace collapsed."""
    return " ".join(re.sub(r"[^\w\s]", " ", text.lower()).split())


def carries(text: str, fact: str) -> bool:
    """True when the text states the fact (as a whole word or phrase, whatever the case and punctuation)."""
    return re.search(rf"(^| ){re.escape(normalised(fact))}( |$)", normalised(text)) is not None


def upload(http: httpx.Client, base: str, case: DocumentCase) -> httpx.Response:
    """POST the document to doc-processor's /documents."""
    name, data, ctype = case.payload()
    return http.post(base + "/documents", files={"file": (name, data, ctype)})


def ask(http: httpx.Client, base: str, question: str) -> httpx.Response:
    """POST a question to rag-service's /ask."""
    return http.post(base + "/ask", json={"question": question})


def still_answerable(stack, http: httpx.Client, written: dict) -> tuple[bool, str]:
    """(ok, detail): the document by id, its RAG answer, its entities, the note; a service that does not answer
    is a detail, not an exception."""
    try:
        return _still_answerable(stack, http, written)
    except httpx.HTTPError as exc:
        return False, f"{type(exc).__name__}: {exc}"


def _still_answerable(stack, http: httpx.Client, written: dict) -> tuple[bool, str]:
    case, doc, note = written["case"], written["doc"], written["note"]
    got = http.get(f"{stack.url('doc-processor')}/documents/{doc['id']}")
    if got.status_code != 200 or got.json()["text"] != doc["text"]:
        return False, f"document {doc['id']}: {got.status_code} {got.text[:200]}"
    answer = ask(http, stack.url("rag-service"), case.question)
    if answer.status_code != 200 or not carries(answer.json().get("answer", ""), case.fact):
        return False, f"RAG answer to {case.question!r}: {answer.status_code} {answer.text[:200]}"
    ents = http.get(f"{stack.url('ner-graph-service')}/entities", params={"document_id": doc["id"]})
    if case.fact not in {e["name"] for e in ents.json().get("entities", [])}:
        return False, f"entities of {doc['id']}: {ents.text[:200]}"
    back = http.get(f"{stack.url('notes-service')}/notes/{note['id']}")
    if back.status_code != 200 or back.json().get("structured") != note["structured"]:
        return False, f"note {note['id']}: {back.status_code} {back.text[:200]} (wrote {note['structured'][:100]!r})"
    return True, ""



def write_data(stack, http: httpx.Client, manifest: Manifest, number: str, vendor: str) -> dict:
    """Write a document (with its embeddings and entities) and a note through the stack, to be read back after a
    disruption; StackgateError naming the service when a write is refused."""
    from .errors import StackgateError

    case = document_case(manifest, "png", number, vendor)
    doc = upload(http, stack.url("doc-processor"), case)
    note = http.post(stack.url("notes-service") + "/notes",
                     json={"text": manifest.roundtrips["notes"]["text"].format(number=number, vendor=vendor)})
    if doc.status_code != 201 or note.status_code != 201:
        raise StackgateError(f"doc-processor {doc.status_code} {doc.text[:150]}; notes-service {note.status_code} "
                             f"{note.text[:150]}")
    return {"case": case, "doc": doc.json(), "note": note.json()}
