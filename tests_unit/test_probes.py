"""Declared requests and checks: templates, JSONPath, facts that must hold (or must not), chains that save values."""

import httpx
import pytest

from stackgate import manifest as manifest_mod
from stackgate.evidence.roundtrip import chain_values, judge_check, run_chain
from stackgate.manifest import Check, render


def test_a_template_names_the_value_it_misses():
    assert render({"q": "What is {vendor}?", "n": ["{number}"]}, {"vendor": "ACME", "number": "7"}) == \
        {"q": "What is ACME?", "n": ["7"]}
    with pytest.raises(KeyError, match="id"):
        render("/documents/{id}", {})


@pytest.mark.parametrize("check,body,why", [
    (Check(at="$.answer", holds="{number}"), {"answer": "The invoice number is 4711."}, None),
    (Check(at="$.answer", holds="{number}"), {"answer": "The context does not say."}, "stating '4711'"),
    (Check(at="$.entities[*].name", holds="{number}"), {"entities": [{"name": "ACME"}, {"name": "4711"}]}, None),
    (Check(at="$.missing", holds="x"), {"answer": "x"}, "nothing at $.missing"),
    (Check(at="$.text", equals="{number}"), {"text": "4711"}, None),
    (Check(at="$.answer", lacks=("4712", "4713")), {"answer": "It is 4712."}, "stating none of"),
    (Check(value="{number}", holds="4711"), None, None),
])
def test_a_check_holds_on_facts_not_sentences(check, body, why):
    got = judge_check(check, body, {"number": "4711"})
    assert (got is None) if why is None else (why in got)


LINE = "WAYBILL 4711 SENDER VANTEXQRS"


@pytest.mark.parametrize("answer,fails", [
    ("4711 SENDER VANTEXQRS", True),                               # a span of the line that holds the number
    ("waybill 4711.", True),                                       # ... whatever its case and punctuation
    ("WAYBILL 4711 SENDER VANTEXQRS", False),                      # the whole restated is not a fragment
    ("VANTEXQRS sent waybill 4711.", False),                       # words of its own
    ("This is waybill 4711 from VANTEXQRS.", False),
])
def test_an_answer_that_is_only_a_run_of_the_line_is_not_in_words_of_its_own(answer, fails):
    got = judge_check(Check(at="$.answer", not_part_of=("{line}",)), {"answer": answer}, {"line": LINE})
    assert (got is not None and "not a fragment of 'WAYBILL 4711 SENDER VANTEXQRS'" in got) if fails else got is None


@pytest.mark.parametrize("answer,fails", [
    ("Text: WAYBILL 4711", True),                                  # words cut out of a prompt
    ("The tracking code of VANTEXQRS is", True),                   # an answer cut off by a token limit
    ("The tracking code of VANTEXQRS is 4711.", False),
    ('He said "it is 4711."\n', False),
    ("Is it 4711?", False),
    ("**The code is 4711.**", False),                              # markdown, curly quotes after the stop
    ("“It is 4711.”", False),
])
def test_an_answer_that_does_not_end_as_a_sentence_fails(answer, fails):
    got = judge_check(Check(at="$.answer", sentence=True), {"answer": answer}, {})
    assert (got is not None and "ending as a sentence does" in got) if fails else got is None


def test_a_chain_saves_values_for_later_steps_and_names_the_failing_service():
    m = manifest_mod.load()
    rt = m.roundtrips["notes"]
    calls = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append((request.method, request.url.path))
        if request.method == "POST":
            return httpx.Response(201, json={"id": "n1", "structured": "- invoice 4711\n- for ACMEB",
                                             "points": ["invoice 4711", "for ACMEB"]})
        return httpx.Response(200, json={"id": "n1", "structured": "something else"})

    with httpx.Client(transport=httpx.MockTransport(handler)) as http:
        results = run_chain(http, m, rt, {"number": "4711", "vendor": "ACMEB", "raw_note": "Send invoice 4711 to ACMEB."})
    assert calls == [("POST", "/notes"), ("GET", "/notes/n1")]
    assert results["structured"].ok
    assert not results["stored"].ok and "[LLM queries respond] notes-service" in results["stored"].problems[0]


def test_each_chain_gets_facts_of_its_own():
    m = manifest_mod.load()
    facts, invoice = {"number": "4000", "vendor": "ACMEXYZ"}, m.phrasing("invoice")
    png = chain_values(facts, m.roundtrips["document"], 0, "png", phrasing=invoice)
    pdf = chain_values(facts, m.roundtrips["document"], 0, "pdf", phrasing=invoice)
    assert png["number"] != pdf["number"] and png["vendor"] != pdf["vendor"]
    assert png["line"] == f"INVOICE {png['number']} {png['vendor']}"
