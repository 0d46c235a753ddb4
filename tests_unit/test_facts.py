"""A run's facts: drawn from a seed (the same seed, the same facts), in one of the manifest's phrasings, whose
words fill the round-trips' templates for the chain's own party and for both distractor parties."""

from dataclasses import replace
from pathlib import Path

import pytest

from stackgate.core.errors import ManifestError
from stackgate.evidence.facts import draw
from stackgate.evidence.roundtrip import chain_values
from stackgate.manifest import load

MANIFEST = load("stack/manifest.yaml")


def test_the_same_seed_draws_the_same_facts_and_seeds_reach_every_phrasing():
    assert draw(MANIFEST, 42) == draw(MANIFEST, 42)
    assert {draw(MANIFEST, seed).phrasing for seed in range(40)} == {p.id for p in MANIFEST.phrasings if p.drawn}


def test_a_phrasing_declared_not_drawn_is_never_drawn():
    kept = replace(MANIFEST, phrasings=tuple(replace(p, drawn=p.id == "invoice") for p in MANIFEST.phrasings))
    assert {draw(kept, seed).phrasing for seed in range(40)} == {"invoice"}


def test_a_drawn_vendor_is_its_phrasings_stem_and_letters_no_reader_confuses():
    for seed in range(20):
        d = draw(MANIFEST, seed)
        stem = MANIFEST.phrasing(d.phrasing).vendor
        assert d.vendor.startswith(stem) and not set(d.vendor[len(stem):]) & set("OILZ") and int(d.number) >= 4000


def test_a_chain_states_its_phrasings_sentences_for_itself_and_each_distractor():
    phrasing = MANIFEST.phrasing("waybill")
    facts = {"number": "5000", "vendor": "VANTEXABC", "phrasing": "waybill"}
    v = chain_values(facts, MANIFEST.roundtrips["rag"], 2, MANIFEST.roundtrips["rag"].chains()[0], phrasing=phrasing)
    assert v["code_sentence"] == "VANTEXABCC was given the tracking code 5020."
    assert v["code_sentence_b"] == "BRANDTABCC was given the tracking code 5025."
    assert v["code_sentence_c"] == "KESTRAABCC was given the tracking code 5027."
    doc = chain_values(facts, MANIFEST.roundtrips["document"], 0, "pdf", phrasing=phrasing)
    assert doc["line"] == "WAYBILL 5001 SENDER VANTEXABCAPDF"


def test_phrasings_that_name_different_words_are_refused(tmp_path):
    broken = Path("stack/manifest.yaml").read_text().replace(
        '        shipment: "{vendor} dispatched parcel {number} yesterday."\n', "")
    path = tmp_path / "manifest.yaml"
    path.write_text(broken)
    with pytest.raises(ManifestError, match="name different words .shipment."):
        load(path)


@pytest.mark.parametrize("line,why", [('        shipment: "Order {number} was shipped by {vendor}."\n',
                                        '        line: "Order {number}."\n'),
                                       ('        shipment: "Order {number} was shipped by {vendor}."\n',
                                        '        shipment: "Order {number} was shipped by {carrier}."\n')],
                         ids=["a reserved name", "an unknown placeholder"])
def test_a_phrasing_word_that_would_overwrite_a_value_or_names_an_unknown_one_is_refused(tmp_path, line, why):
    path = tmp_path / "manifest.yaml"
    path.write_text(Path("stack/manifest.yaml").read_text().replace(line, why, 1))
    with pytest.raises(ManifestError, match="facts.phrasings 'invoice'"):
        load(path)
