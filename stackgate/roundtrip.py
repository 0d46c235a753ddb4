"""Round-trips through the services: upload a document, ask about it, list its entities, write a note."""

from __future__ import annotations

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


def upload(http: httpx.Client, base: str, case: DocumentCase) -> httpx.Response:
    """POST the document to doc-processor's /documents."""
    name, data, ctype = case.payload()
    return http.post(base + "/documents", files={"file": (name, data, ctype)})


def ask(http: httpx.Client, base: str, question: str) -> httpx.Response:
    """POST a question to rag-service's /ask."""
    return http.post(base + "/ask", json={"question": question})
