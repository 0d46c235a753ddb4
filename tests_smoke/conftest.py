"""Smoke-suite fixtures: documents processed once per session (PNG and PDF) for the round-trip tests."""

import pytest

from stackgate.roundtrip import document_case, upload


@pytest.fixture(scope="session")
def processed(stack, http, manifest, run_facts):
    """kind -> (case, response JSON or error) for a PNG and a PDF uploaded to doc-processor."""
    out = {}
    for i, kind in enumerate(("png", "pdf")):
        number = str(int(run_facts["number"]) + i)
        case = document_case(manifest, kind, number, run_facts["vendor"] + kind.upper())
        resp = upload(http, stack.url("doc-processor"), case)
        out[kind] = (case, resp.status_code, resp.json() if "json" in resp.headers.get("content-type", "") else {"raw": resp.text})
    return out
