"""Rollback fixtures: data written through the separated stack, then the move to the simple one and back."""

import httpx
import pytest

from stackgate.errors import StackgateError
from stackgate.metrics import finding
from stackgate.plugin import STACK_KEY
from stackgate.rollback import Rollback
from stackgate.roundtrip import document_case, upload


@pytest.fixture(scope="module")
def written(request, stack, http, manifest, run_facts):
    """Data written through the separated stack before the rollback: a document (with its embeddings and
    entities) and a note."""
    if stack.reused and not request.config.getoption("--stack-owned"):
        pytest.skip("--stack-reuse: the rollback would replace a stack this session does not own (--stack-owned)")
    case = document_case(manifest, "png", str(int(run_facts["number"]) + 7), run_facts["vendor"] + "RB")
    try:
        doc = upload(http, stack.url("doc-processor"), case)
        note = http.post(stack.url("notes-service") + "/notes",
                         json={"text": manifest.roundtrips["notes"]["text"].format(**run_facts)})
    except httpx.HTTPError as exc:
        pytest.fail(finding("rollback", "separated stack", "data written before the rollback", f"{type(exc).__name__}: {exc}"),
                    pytrace=False)
    assert doc.status_code == 201 and note.status_code == 201, finding(
        "rollback", "separated stack", "data written before the rollback (201, 201)",
        f"doc-processor {doc.status_code} {doc.text[:150]}; notes-service {note.status_code} {note.text[:150]}")
    return {"case": case, "doc": doc.json(), "note": note.json()}


@pytest.fixture(scope="module")
def rollback(stack, written, stack_profiles, pytestconfig):
    """The stack moved to the simple layout (separated `down` with volumes kept, simple `up`)."""
    rb = Rollback(stack, stack_profiles)
    pytestconfig.stash[STACK_KEY]["rollback"] = rb
    return switched(rb, "simple")


@pytest.fixture(scope="module")
def forward(rollback):
    """The stack moved forward again to the separated layout."""
    return switched(rollback, "separated")


def switched(rb: Rollback, layout: str) -> Rollback:
    """rb after moving to layout; a failed step fails the test that needed it, with the step's evidence."""
    try:
        rb.switch(layout)
    except StackgateError as exc:
        pytest.fail(str(exc), pytrace=False)
    return rb


@pytest.fixture(scope="module")
def simple_config(manifest, stack_profiles) -> dict:
    """The simple layout's merged compose model."""
    from stackgate.composefile import load_config

    return load_config(manifest.compose_files("simple", stack_profiles), manifest.project_dir)


@pytest.fixture(scope="module")
def simple_services(simple_config):
    """The services the simple file defines."""
    return set(simple_config["services"])
