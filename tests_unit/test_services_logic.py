"""The application services' own logic (no stack): upload types, chunking, entity parsing, errors."""

import pytest

from stackgate.evidence.documents import render_pdf, render_png


def test_uploads_are_typed_by_content_not_by_name():
    from app.uploads import kind_of

    assert kind_of(render_png(["x"])) == "png" and kind_of(render_pdf(["x"])) == "pdf"
    assert kind_of(b"\xff\xd8\xff\xe0rest") == "jpeg" and kind_of(b"GIF89a") is None


def test_a_pdf_is_rendered_to_one_png_per_page():
    import base64

    from app.uploads import page_images

    (page,) = page_images(render_pdf(["INVOICE 1"]), "pdf")
    assert base64.b64decode(page).startswith(b"\x89PNG")


def test_chunks_keep_sentences_whole_and_bounded():
    from app.clientrag import chunk

    text = "First sentence. Second one!\nThird line " + "x" * 600
    chunks = chunk(text, max_chars=100)
    assert chunks[0] == "First sentence. Second one!" and len(chunks) == 2


def test_entities_are_parsed_from_the_llm_json_and_deduplicated():
    from app.nergraph import parse_entities

    raw = '{"entities": [{"name": "ACME", "type": "ORG"}, {"name": "acme"}, {"name": ""}, {"name": "4711"}]}'
    assert parse_entities(raw) == [{"name": "ACME", "type": "ORG"}, {"name": "4711", "type": "UNKNOWN"}]


def test_an_llm_answer_that_is_not_json_is_a_502_naming_it():
    from app.common import ServiceError
    from app.nergraph import parse_entities

    with pytest.raises(ServiceError) as exc:
        parse_entities("Sure! Here are the entities:")
    assert exc.value.status == 502 and "did not return JSON" in exc.value.message


def test_an_upload_of_an_unsupported_type_is_a_415_json_error(monkeypatch):
    monkeypatch.setenv("VISION_OLLAMA_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("VISION_MODEL", "llava:7b")
    from starlette.testclient import TestClient

    from app.ocr import create_app

    with TestClient(create_app()) as client:
        resp = client.post("/ocr", files={"file": ("x.gif", b"GIF89a....", "image/gif")})
        assert resp.status_code == 415 and "unsupported document type" in resp.json()["error"]
        assert client.post("/ocr", data={"x": "1"}).status_code == 400
        resp = client.post("/ocr", files={"file": ("a.png", render_png(["A"]), "image/png")})
        assert resp.status_code == 502 and "unreachable" in resp.json()["error"]


def test_a_service_is_served_under_its_path_prefix_with_its_lifespan():
    from starlette.applications import Starlette
    from starlette.responses import PlainTextResponse
    from starlette.routing import Route
    from starlette.testclient import TestClient

    from app.common import prefixed

    started = []

    async def hello(request):
        return PlainTextResponse("hi")

    import contextlib

    @contextlib.asynccontextmanager
    async def lifespan(app):
        started.append(True)
        yield

    app = Starlette(routes=[Route("/notes", hello)], lifespan=lifespan)
    with TestClient(prefixed(app, "/v2/")) as client:
        assert client.get("/v2/notes").text == "hi" and client.get("/notes").status_code == 404
    assert started == [True]


def test_an_entity_name_may_only_be_a_span_of_the_text_so_the_grammar_copies_it():
    from app.nergraph import schema_for, spans

    text = "Order 6555 was shipped by ACMERGJD."
    names = spans(text)
    assert {"6555", "ACMERGJD", "Order 6555", "shipped by ACMERGJD"} <= set(names)
    assert "6578" not in names and "ACMERGJD." not in names and all(len(n.split()) <= 3 for n in names)
    item = schema_for(text)["properties"]["entities"]["items"]["properties"]
    assert item["name"]["enum"] == names and "NUMBER" in item["type"]["enum"]


def test_a_note_is_structured_from_its_own_words_one_point_per_sentence_at_most():
    import re

    from app.notes import bullets, schema_for

    text = "Met ACMEBYYM on Monday. Send invoice 3183 by Friday."
    points = schema_for(text)["properties"]["points"]
    pattern = re.compile(points["items"]["pattern"])
    assert points["maxItems"] == 2
    assert pattern.match("Met ACMEBYYM on Monday.") and pattern.match("Send invoice 3183 by Friday.")
    assert not pattern.match("Met ACMEBYM on Monday.") and not pattern.match("Send invoice 3138.")
    assert pattern.match("Send (invoice 3183), by Friday.") and not pattern.match("Send invoice 3183. (). (). ().")
    assert bullets('{"points": ["Met ACMEBYYM on Monday.", " Send invoice 3183 by Friday."]}') == \
        "- Met ACMEBYYM on Monday.\n- Send invoice 3183 by Friday."


def test_an_answer_that_is_not_the_promised_json_is_a_502():
    import pytest

    from app.common import ServiceError
    from app.notes import bullets

    with pytest.raises(ServiceError) as err:
        bullets("- Met ACME on Monday.")
    assert err.value.status == 502
