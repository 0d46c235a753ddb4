"""The services' prompts are not the gate's inputs: no worked example, instruction or prompt of a service shares a
vendor stem, a term (field name, kind of document) or four words in a row of a template with any phrasing of the
manifests' facts. The services are a reference deployment; a gate that passes them on its own wording proves less."""

import importlib
import re
import string

import pytest

from stackgate.manifest import load

MODULES = ("rag", "notes", "nergraph", "docproc", "ocr", "clientrag")
PROMPT_NAMES = re.compile(r"(EXAMPLES|SYSTEM|PROMPT)$")


def words(text: str) -> list[str]:
    return re.sub(r"[^\w\s]", " ", text.lower()).split()


def strings_of(value) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in strings_of(k) + strings_of(v)]
    if isinstance(value, (list, tuple)):
        return [s for v in value for s in strings_of(v)]
    return []


def service_prompts() -> dict[str, str]:
    """'module.NAME' -> the text of every worked example, instruction and prompt the services send their models."""
    out = {}
    for name in MODULES:
        module = importlib.import_module(f"app.{name}")
        for attr, value in vars(module).items():
            if PROMPT_NAMES.search(attr):
                out[f"{name}.{attr}"] = " \n ".join(strings_of(value))
    return out


def literal_runs(template: str, n: int = 4) -> list[str]:
    """The runs of n words a template states outside its placeholders."""
    runs = []
    for literal, *_ in string.Formatter().parse(template):
        w = words(literal)
        runs += [" ".join(w[i:i + n]) for i in range(len(w) - n + 1)]
    return runs


def phrasings():
    return [(path, p) for path in ("stack/manifest.yaml", "stack/manifest-vllm.yaml") for p in load(path).phrasings]


def shared(text: str, phrasing) -> list[str]:
    """What a prompt shares with a phrasing: its vendor stems (as a word's start), terms, four-word runs."""
    said = " " + " ".join(words(text)) + " "
    found = [f"the vendor stem {stem}" for stem in (phrasing.vendor, *phrasing.others) if f" {stem.lower()}" in said]
    found += [f"the term {term!r}" for term in phrasing.terms if f" {' '.join(words(term))} " in said]
    found += [f"{run!r} of {name}" for name, template in phrasing.words.items() for run in literal_runs(template)
              if f" {run} " in said]
    return found


@pytest.mark.parametrize("path,phrasing", phrasings(), ids=lambda v: getattr(v, "id", str(v)))
def test_no_service_prompt_shares_a_stem_term_or_template_with_a_phrasing(path, phrasing):
    prompts = service_prompts()
    assert {"rag.EXAMPLES", "rag.SYSTEM", "notes.EXAMPLES", "nergraph.EXAMPLES", "docproc.SUMMARY_EXAMPLES"} <= set(prompts)
    problems = [f"{where} shares {what}" for where, text in prompts.items() for what in shared(text, phrasing)]
    assert not problems, f"{path}, phrasing {phrasing.id}: " + "; ".join(problems)


def test_a_prompt_that_copies_a_template_a_stem_or_a_term_is_found():
    (invoice,) = [p for path, p in phrasings() if p.id == "invoice" and path.endswith("manifest.yaml")][:1]
    assert shared("Context: The delivery code of XY is 2120.", invoice) == [
        "the term 'delivery code'", "'the delivery code of' of code_sentence", "'the delivery code of' of code_question"]
    assert shared("Called GLOBEXKKR on Tuesday.", invoice) == ["the vendor stem GLOBEX"]
    assert shared("Saw NORTHWIND AIR on Tuesday. Book room 2381.", invoice) == []


def test_every_template_of_the_round_trips_renders_in_every_phrasing():
    from stackgate.evidence.facts import draw
    from stackgate.evidence.roundtrip import chain_values
    from stackgate.manifest import render

    for path in ("stack/manifest.yaml", "stack/manifest-vllm.yaml"):
        m = load(path)
        for phrasing in m.phrasings:
            facts = {**draw(m, 1).values(), "phrasing": phrasing.id, "vendor": phrasing.vendor + "ABC"}
            for index, rt in enumerate(m.roundtrips.values()):
                for kind in rt.chains():
                    values = chain_values(facts, rt, index, kind, phrasing=phrasing)
                    saved = {k: "x" for s in rt.steps for k in (s.save or {})} | {"summary": "x", "text": "x", "id": "x"}
                    for step in rt.steps:
                        if step.request is not None:
                            render(step.request.json, {**values, **saved})
                            render(step.request.path, {**values, **saved})
                        for check in step.checks:
                            for template in (check.value, check.holds, check.equals, *check.lacks):
                                render(template or "", {**values, **saved})  # KeyError names a missing word
