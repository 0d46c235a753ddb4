"""The stand-in's adversary (faults only): each mode's wrong answer is the one it names, shaped to the format."""

import json
import random

from standin_ollama import adversary

CHAT = [{"role": "system", "content": "You extract named entities."},
        {"role": "user", "content": "Text: Invoice 1234 was paid by Globex."},
        {"role": "assistant", "content": '{"entities": [{"name": "1234", "type": "NUMBER"}]}'},
        {"role": "user", "content": "Text: Order 5821 was shipped by Acme."}]
SCHEMA = {"type": "object", "properties": {"entities": {"type": "array", "items": {"type": "object", "properties": {
    "name": {"type": "string", "enum": ["Order 5821 was shipped by Acme.", "5821", "Acme"]},
    "type": {"type": "string", "enum": ["NUMBER", "ORGANIZATION"]}}}}}}


def test_echo_answers_with_the_last_user_message():
    assert adversary.wrong_text("echo", CHAT, random.Random(0)) == "Text: Order 5821 was shipped by Acme."


def test_example_answers_with_the_first_worked_examples_answer():
    assert adversary.wrong_text("example", CHAT, random.Random(0)) == CHAT[2]["content"]


def test_span_is_a_run_of_the_prompts_words():
    prompt = " ".join(m["content"] for m in CHAT)
    for seed in range(20):
        assert adversary.wrong_text("span", CHAT, random.Random(seed)) in prompt


def test_a_schema_gets_the_wrong_text_in_its_closest_enum_member():
    out = json.loads(adversary.formatted("Order 5821 was shipped by Acme.", SCHEMA, random.Random(0)))
    assert out["entities"][0]["name"] == "Order 5821 was shipped by Acme."


def test_other_hands_back_another_prompts_real_answer_of_the_same_kind():
    memory, r = adversary.Memory(), random.Random(0)
    memory.remember("k", "doc A", "answer A")
    assert memory.other("k", "doc A", r) is None
    memory.remember("k", "doc B", "answer B")
    assert memory.other("k", "doc B", r) == "answer A" and memory.other("other kind", "doc B", r) is None


def test_requests_whose_schemas_are_built_from_their_own_text_are_one_kind():
    system = [{"role": "system", "content": "List the entities."}]
    a = adversary.kind([*system, {"role": "user", "content": "Order 4711 by ACME."}], {"enum": ["4711", "ACME"]})
    b = adversary.kind([*system, {"role": "user", "content": "Order 5120 by INITECH."}], {"enum": ["5120", "INITECH"]})
    assert a == b != adversary.kind(system, None)


def test_a_wrong_answer_takes_the_shape_a_grammar_would_let_it():
    import sys

    sys.path.insert(0, "stack/services")
    from app.nergraph import schema_for as entities_schema
    from app.notes import schema_for as notes_schema

    r = random.Random(0)
    text = "WAYBILL 7445 SENDER VANTEXBJUA"
    (item,) = adversary.shaped(entities_schema(text), text, r)["entities"]
    assert item["type"] in ("ORGANIZATION", "PERSON", "LOCATION", "DATE", "PRODUCT") or item["name"] == "7445"
    note = "Met ACMEX on Monday. Send invoice 4711 by Friday."
    first, second = adversary.shaped(notes_schema(note), "Send invoice 4711 by Friday.", r)["points"]
    assert first == "" and second == "Send invoice 4711 by Friday."  # the first sentence's words only in point 1
