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


def test_search_ranks_the_chunk_naming_the_asked_party_above_a_chunk_of_the_same_shape():
    from app.clientrag import hybrid

    # the embedding ranked the other chunk first (its sentence shares "the", "of", "is" with the question)
    hits = [{"text": "The delivery code of OTHERCO is 8251.", "score": 0.41},
            {"text": "INVOICE 8232 ACMEKURAPDF", "score": 0.39},
            {"text": "The routing probe is 1234.", "score": 0.30}]
    (best,) = hybrid("What is the invoice number of ACMEKURAPDF?", hits, 1)
    assert best["text"] == "INVOICE 8232 ACMEKURAPDF"


def test_search_keeps_the_embedding_order_when_no_word_of_the_query_appears():
    from app.clientrag import hybrid

    hits = [{"text": "alpha beta", "score": 0.5}, {"text": "gamma delta", "score": 0.4}]
    assert [h["text"] for h in hybrid("unrelated words", hits, 2)] == ["alpha beta", "gamma delta"]


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


def test_an_entity_name_may_only_be_a_span_of_the_text_of_its_types_kind_so_the_grammar_copies_it():
    from app.nergraph import schema_for, spans

    text = "Order 6555 was shipped by ACMERGJD."
    names = spans(text)
    assert {"6555", "ACMERGJD", "Order", "shipped by ACMERGJD"} <= set(names)
    assert "6578" not in names and "ACMERGJD." not in names and all(len(n.split()) <= 3 for n in names)
    assert "Order 6555" not in names and "6555 was" not in names  # a number is an entity of its own
    numbers, words = schema_for(text)["properties"]["entities"]["items"]["anyOf"]
    assert numbers["properties"]["name"]["enum"] == ["6555"] and "NUMBER" in numbers["properties"]["type"]["enum"]
    assert set(words["properties"]["name"]["enum"]) == set(names) - {"6555"}
    assert "NUMBER" not in words["properties"]["type"]["enum"]  # a word is never typed a number
    assert list(numbers["properties"]) == ["type", "name"]  # the type is chosen first, then a name that fits it


def test_a_note_is_structured_one_point_per_sentence_in_order_each_of_its_sentences_words():
    import re

    from app.notes import bullets, schema_for

    text = "Met ACMEBYYM on Monday. Send invoice 3183 by Friday."
    points = schema_for(text)["properties"]["points"]
    first, second = (re.compile(p["pattern"]) for p in points["prefixItems"])
    assert points["minItems"] == points["maxItems"] == 2 and points["items"] is False
    assert first.match("Met ACMEBYYM on Monday.") and second.match("Send invoice 3183 by Friday.")
    assert not first.match("Send invoice 3183 by Friday.")  # the first point is the first sentence's, not a copy
    assert not first.match("Met ACMEBYM on Monday.") and not second.match("Send invoice 3138.")
    assert second.match("Send (invoice 3183), by Friday.") and not second.match("Send invoice 3183. (). (). ().")
    assert bullets('{"points": ["Met ACMEBYYM on Monday.", " Send invoice 3183 by Friday."]}') == \
        "- Met ACMEBYYM on Monday.\n- Send invoice 3183 by Friday."


def test_a_long_note_gets_at_most_one_point_per_sentence_of_its_words():
    from app.notes import MAX_SENTENCES, schema_for

    text = " ".join(f"Point {i} is here." for i in range(MAX_SENTENCES + 1))
    points = schema_for(text)["properties"]["points"]
    assert points["maxItems"] == MAX_SENTENCES + 1 and "pattern" in points["items"]


def test_an_answer_that_is_not_the_promised_json_is_a_502():
    import pytest

    from app.common import ServiceError
    from app.notes import bullets

    with pytest.raises(ServiceError) as err:
        bullets("- Met ACME on Monday.")
    assert err.value.status == 502
