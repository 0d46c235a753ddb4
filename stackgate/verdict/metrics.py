"""Each metric's status from its tests' results, and the gate's verdict.

A metric is PASS only when each of its tests ran and passed. Zero tests is UNKNOWN; a skip is UNKNOWN
unless the manifest declares it optional (with its reason); a gate passes only when every metric it
requires is PASS (or an optional SKIPPED).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from stackgate.core.metrics import METRICS
from stackgate.manifest.model import Gate, OptionalSkip

PASS, FAIL, UNKNOWN, SKIPPED, NOT_IN_GATE = "PASS", "FAIL", "UNKNOWN", "SKIPPED", "not in this gate"
GATE_PASSED, GATE_FAILED, GATE_INCOMPLETE = "PASSED", "FAILED", "INCOMPLETE"



@dataclass
class Result:
    nodeid: str
    outcome: str  # passed / failed / skipped, or deselected / not run (no evidence)
    reason: str = ""


@dataclass
class MetricStatus:
    metric: str
    title: str
    status: str  # PASS / FAIL / UNKNOWN / SKIPPED / not in this gate
    results: list[Result] = field(default_factory=list)
    why: str = ""  # the rule that decided the status, for the report and the terminal
    required: bool = True

    @property
    def reason(self) -> str:
        reasons = sorted({r.reason for r in self.results if r.outcome != "passed" and r.reason})
        return "; ".join(reasons)[:300]


def judge_metric(metric: str, results: list[Result], optional: tuple[OptionalSkip, ...] = ()) -> tuple[str, str]:
    """(status, why) of one metric from its tests' results, by the rules in this module's docstring."""
    if not results:
        return UNKNOWN, "no test ran"
    failed = [r for r in results if r.outcome == "failed"]
    if failed:
        return FAIL, f"{len(failed)} of {len(results)} test(s) failed"
    missing = [r for r in results if r.outcome not in ("passed", "skipped")]
    if missing:
        return UNKNOWN, f"{len(missing)} test(s) did not run: " + "; ".join(sorted({r.reason for r in missing}))
    skips = [r for r in results if r.outcome == "skipped"]
    accepted = [r for r in skips if any(o.covers(metric, r) for o in optional)]
    unaccepted = [r for r in skips if r not in accepted]
    if unaccepted:
        return UNKNOWN, f"{len(unaccepted)} test(s) skipped without an optional-skip declaration: " + \
            "; ".join(sorted({r.reason or "(no reason)" for r in unaccepted}))[:240]
    if len(accepted) == len(results):
        whys = sorted({o.why for r in accepted for o in optional if o.covers(metric, r)})
        return SKIPPED, "optional skip: " + "; ".join(whys)
    note = f" ({len(accepted)} optional skip(s))" if accepted else ""
    return PASS, f"{len(results) - len(accepted)} test(s) ran and passed{note}"


def aggregate(results: dict[str, list[Result]], gate: Gate | None = None,
              optional: tuple[OptionalSkip, ...] = (), undeclared: dict[str, str] | None = None) -> list[MetricStatus]:
    """Status per metric; with a gate, metrics it does not require read 'not in this gate' unless tests ran.
    `undeclared`: metric -> what the manifest must declare for it to have tests (said when none ran)."""
    out = []
    for metric, title in METRICS.items():
        rs = results.get(metric, [])
        required = gate is None or metric in gate.metrics
        if not required and not any(r.outcome in ("passed", "failed", "skipped") for r in rs):
            out.append(MetricStatus(metric, title, NOT_IN_GATE, rs, f"the {gate.name} gate does not require it", False))
            continue
        status, why = judge_metric(metric, rs, optional)
        if not rs and metric in (undeclared or {}):
            why = f"no test ran: {undeclared[metric]}"
        out.append(MetricStatus(metric, title, status, rs, why, required))
    return out


def gate_verdict(statuses: list[MetricStatus]) -> tuple[str, list[str]]:
    """(PASSED / FAILED / INCOMPLETE, one line per required metric that is not PASS or an optional SKIPPED)."""
    problems, failed = [], False
    for m in statuses:
        if not m.required or m.status in (PASS, SKIPPED):
            continue
        failed |= m.status == FAIL
        problems.append(f"{m.title}: {m.status} ({m.why})")
    return (GATE_FAILED if failed else GATE_INCOMPLETE if problems else GATE_PASSED), problems
