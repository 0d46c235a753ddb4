"""Round-trips through the services, as the manifest declares them: run a chain's steps, judge each step."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import httpx

from stackgate.core.metrics import finding
from stackgate.manifest import Check, Phrasing, Roundtrip, Step, render

from .facts import SAFE_LETTERS
from .send import body_of, extract, send

if TYPE_CHECKING:
    from stackgate.manifest import Manifest



def normalised(text: str) -> str:
    """Text compared as facts, not sentences: lower case, punctuation dropped, whitespace collapsed."""
    return " ".join(re.sub(r"[^\w\s]", " ", text.lower()).split())


def carries(text: str, fact: str) -> bool:
    """True when the text states the fact (as a whole word or phrase, whatever the case and punctuation)."""
    return re.search(rf"(^| ){re.escape(normalised(fact))}( |$)", normalised(text)) is not None


def chain_values(run_facts: dict[str, str], rt: Roundtrip, index: int, kind: str, offset: int = 0,
                 suffix: str = "", phrasing: Phrasing | None = None) -> dict[str, str]:
    """The facts of one chain: a number and a vendor of its own (so no answer can come from another chain's
    data), two distractor parties, the phrasing's words for each of the three, and for a document its kind and
    rendered lines."""
    phrasing = phrasing or Phrasing("plain")
    kind_index = rt.kinds.index(kind) if kind in rt.kinds else 0
    number = int(run_facts["number"]) + offset + 10 * index + kind_index
    vendor = run_facts["vendor"] + SAFE_LETTERS[index % len(SAFE_LETTERS)] + suffix + kind.upper()
    own = vendor[len(phrasing.vendor):] if vendor.startswith(phrasing.vendor) else vendor[4:]
    values = {"number": str(number), "vendor": vendor,
              # two other parties of the same chain, for distractors: their own numbers and unrelated names
              "number_b": str(number + 5), "vendor_b": phrasing.others[0] + own,
              "number_c": str(number + 7), "vendor_c": phrasing.others[1] + own}
    for name, template in phrasing.words.items():
        for tail in ("", "_b", "_c"):
            values[name + tail] = render(template, {"number": values["number" + tail], "vendor": values["vendor" + tail]})
    if rt.lines:
        lines = [render(line, values) for line in rt.lines]
        values.update(kind=kind, line=lines[0], lines="\n".join(lines))
    return values


@dataclass
class StepResult:
    """What one step saw: its findings (empty when it holds)."""

    step: str
    service: str
    problems: list[str] = field(default_factory=list)
    status: int | str | None = None
    seconds: float | None = None   # how long its request took to be answered (None: it sends none)

    @property
    def ok(self) -> bool:
        return not self.problems


def _subject(check: Check, body: Any, values: dict[str, str]) -> tuple[list[str] | None, str]:
    if check.at is not None:
        found = extract(body, check.at) if body is not None else []
        return ([str(v) for v in found] if found else None), check.at
    return [render(check.value, values)], check.value or ""


SENTENCE_END = re.compile(r"[.!?…][\"'”’»)\]*_`]*\s*$")  # closing quotes, brackets, markdown after it


def handed_back(answer: str, prompt: str) -> bool:
    """True when the answer is only the prompt's own words in their order (the prompt echoed, or a run of it):
    no model answered, whatever the answer states."""
    said = normalised(answer)
    return not said or f" {said} " in f" {normalised(prompt)} "


def fragment_of(text: str, whole: str) -> bool:
    """True when the text is a run of the whole's words shorter than it (a span handed back, not an answer in words
    of its own); the whole restated is not a fragment."""
    return normalised(text) != normalised(whole) and handed_back(text, whole)


def judge_check(check: Check, body: Any, values: dict[str, str]) -> str | None:
    """Why a check does not hold (None when it holds)."""
    found, where = _subject(check, body, values)
    if found is None:
        shown = body.get("last") if isinstance(body, dict) and "events" in body else body  # a stream: its end
        return f"nothing at {where} in {str(shown)[:200]}"
    if check.at_least is not None and len(found) < check.at_least:
        return f"at least {check.at_least} value(s) at {where}; saw {len(found)}: {found[:3]}"
    text = "\n".join(found)
    if check.holds is not None and not carries(text, render(check.holds, values)):
        return f"{where} stating {render(check.holds, values)!r}; saw {text[:200]!r}"
    if check.equals is not None and render(check.equals, values) not in found:
        return f"{where} equal to {render(check.equals, values)[:120]!r}; saw {text[:200]!r}"
    stated = [render(fact, values) for fact in check.lacks if carries(text, render(fact, values))]
    if stated:
        return f"{where} stating none of {[render(f, values) for f in check.lacks]}; saw {stated} in {text[:200]!r}"
    within = [render(w, values) for w in check.not_part_of if fragment_of(text, render(w, values))]
    if within:
        return f"{where} in words of its own, not a fragment of {within[0]!r}; saw {text[:200]!r}"
    if check.sentence and not SENTENCE_END.search(text):
        return f"{where} ending as a sentence does (. ! ? or …); saw {text[-200:]!r}"
    return None


def run_step(http: httpx.Client, manifest: Manifest, metric: str, step: Step, values: dict[str, str],
             body: Any, service: str) -> tuple[StepResult, Any]:
    """Send the step's request (if any) and judge it; values it saves are added. (result, the answer judged)."""
    result = StepResult(step.id, service)
    try:
        if step.request is not None:
            req = step.request
            what = req.describe(values)
            t0 = time.perf_counter()
            resp = send(http, manifest, req, values)
            result.seconds = round(time.perf_counter() - t0, 3)
            result.status, body = resp.status_code, body_of(resp)
            if resp.status_code != req.expect:
                result.problems.append(finding(metric, service, f"{req.expect} from {what}",
                                               f"{resp.status_code} {resp.text[:200]}"))
                return result, body
        for name, path in step.save.items():
            found = extract(body, path) if body is not None else []
            if found:
                values[name] = str(found[0])
        for check in step.checks:
            why = judge_check(check, body, values)
            if why:
                result.problems.append(finding(metric, service, f"{step.title}: {why.split('; saw ')[0]}",
                                               why.split("; saw ", 1)[-1]))
    except KeyError as exc:
        result.problems.append(finding(metric, service, f"{step.title}: the value {exc} from an earlier step",
                                       "none: the step that saves it failed"))
    except httpx.HTTPError as exc:
        result.problems.append(finding(metric, service, f"an answer to {step.title}", f"{type(exc).__name__}: {exc}"))
    return result, body


def run_chain(http: httpx.Client, manifest: Manifest, rt: Roundtrip, values: dict[str, str],
              writes: bool | None = None) -> dict[str, StepResult]:
    """Run a chain's steps in order (writes=True: only the writing ones; False: only the others), saving values
    into `values`; step id -> its result."""
    results, body, service = {}, None, rt.services[0] if rt.services else "stack"
    for step in rt.steps:
        if writes is not None and step.writes != writes:
            continue
        service = step.service or service
        results[step.id], body = run_step(http, manifest, rt.metric, step, values, body, service)
    return results


def write_data(http: httpx.Client, manifest: Manifest, run_facts: dict[str, str], suffix: str,
               offset: int = 500) -> dict[str, dict]:
    """Run the writing steps of the round-trips the manifest's rollback keeps: roundtrip -> the chain's values.
    StackgateError naming the service when a write is refused."""
    from stackgate.core.errors import StackgateError

    kept = {}
    for name in manifest.rollback_keeps:
        rt = manifest.roundtrips[name]
        kind = rt.chains()[0]
        values = chain_values(run_facts, rt, list(manifest.roundtrips).index(name), kind, offset=offset, suffix=suffix,
                              phrasing=manifest.phrasing(run_facts.get("phrasing")))
        failed = [p for r in run_chain(http, manifest, rt, values, writes=True).values() for p in r.problems]
        if failed:
            raise StackgateError("; ".join(failed))
        kept[name] = values
    return kept


def unanswered(http: httpx.Client, manifest: Manifest, kept: dict[str, dict]) -> dict[str, list[str]]:
    """service -> the problems of the reading steps it failed, over each kept round-trip with the values
    written before (empty: everything written is still answered)."""
    out: dict[str, list[str]] = {}
    for name, values in kept.items():
        for r in run_chain(http, manifest, manifest.roundtrips[name], dict(values), writes=False).values():
            if r.problems:
                out.setdefault(r.service, []).extend(r.problems)
    return out


def still_answerable(http: httpx.Client, manifest: Manifest, kept: dict[str, dict]) -> tuple[bool, str]:
    """(ok, detail): the reading steps of each kept round-trip, with the values written before."""
    problems = [p for ps in unanswered(http, manifest, kept).values() for p in ps]
    return not problems, "; ".join(problems)
