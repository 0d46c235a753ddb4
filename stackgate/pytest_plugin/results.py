"""Results: each test's outcome under its metric (a bare assertion still reads as a finding), the involved
services' logs attached to a failure, and the verdict, computed once at the session's end, which decides the exit
status and is written to reports/metrics.json whatever the terminal does."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import pytest

from stackgate.core.metrics import finding_line
from stackgate.core.paths import reports_dir
from stackgate.manifest import Manifest
from stackgate.verdict.metrics import GATE_FAILED, GATE_PASSED, MetricStatus, Result, aggregate, gate_verdict

from .history import keep_history
from .state import SessionState, Verdict, state_of


def involved_services(item: pytest.Item, manifest: Manifest) -> list[str]:
    """The services a test names: its `services` marks, then the services among its parameters."""
    names: list[str] = []
    for mark in item.iter_markers("services"):
        names += list(mark.args)
    callspec = getattr(item, "callspec", None)
    for value in (callspec.params.values() if callspec else []):
        name = getattr(value, "name", value)
        if isinstance(name, str) and name in manifest.services:
            names.append(name)
    return list(dict.fromkeys(names))


def _reason(report: pytest.TestReport) -> str:
    """The first line of why a test did not pass (its skip reason or its failure message)."""
    reason = ""
    if report.skipped and isinstance(report.longrepr, tuple):
        reason = report.longrepr[2].removeprefix("Skipped: ")
    elif report.failed:
        reason = str(getattr(report.longrepr, "reprcrash", None) and report.longrepr.reprcrash.message or "")
    return reason.splitlines()[0].removeprefix("AssertionError: ") if reason else ""


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()
    state = state_of(item.config)
    metric = item.get_closest_marker("metric")
    if report.failed and not metric:
        state.unmetered.append(item.nodeid)
    if report.when == "setup" and report.duration >= 1.0:  # a test that waited for its evidence: on the critical path
        state.span(f"waited: {item.name}", report.start, report.stop)
    if report.when == "teardown" and not any(item.get_closest_marker(m) for m in ("disruptive", "after_all")):
        state.last_check_end = max(state.last_check_end, report.stop)  # the log watch runs from the last check on
    if report.when == "call" or report.outcome != "passed":  # what the history keeps of each test
        state.outcomes[item.nodeid] = {"outcome": report.outcome, "seconds": round(report.duration, 3)}
    if metric and (report.when == "call" or report.outcome == "failed"
                   or (report.when == "setup" and report.outcome != "passed")):
        first = _reason(report)
        if report.failed and not first.startswith("["):  # a bare assertion still reads as a finding in the report
            names = involved_services(item, state.manifest)
            first = finding_line(metric.args[0], names[0] if names else "stack", first or "failed")
        state.record(metric.args[0], Result(item.nodeid, report.outcome, first))
    stack = state.start.stack if state.start else None
    if report.failed and report.when == "call" and stack is not None:
        attach_logs(report, stack, involved_services(item, stack.manifest))


def attach_logs(report: pytest.TestReport, stack, names: list[str]) -> None:  # noqa: ANN001 - engines.base.Stack
    """The last 200 log lines of each involved service, as report extras (when pytest-html is there)."""
    try:
        from pytest_html import extras
    except ImportError:
        return
    attached = getattr(report, "extras", [])
    for name in names:
        try:
            text = "\n".join(stack.logs(name, tail=200))
        except Exception as exc:  # noqa: BLE001 - logs are evidence, not a second failure
            text = f"(could not read logs: {exc})"
        attached.append(extras.text(text, name=f"logs: {name}"))
    report.extras = attached


def statuses(state: SessionState) -> list[MetricStatus]:
    """Every metric's status for this session (judged against its gate, with the manifest's optional skips); a test
    a metric expected that never reported (-x, --maxfail, an abort) counts as not run."""
    results = {k: list(v) for k, v in state.results.items()}
    reported = {r.nodeid for rs in results.values() for r in rs}
    for nodeid, metric in state.expected.items():
        if nodeid not in reported:
            results.setdefault(metric, []).append(Result(nodeid, "not run", "never reached (-x, --maxfail, an abort)"))
    declared = {rt.metric for rt in state.manifest.roundtrips.values()}
    undeclared = {metric: f"declare a round-trip for {metric} in the manifest (roundtrips: NAME: {{metric: {metric}, "
                          "steps: [...]}})" for metric in ("document-processing", "llm-queries") if metric not in declared}
    out = aggregate(results, state.gate, state.manifest.optional_skips, undeclared)
    for m in out:  # the seed's wording: "All 13 services running", with this manifest's count
        if m.metric == "services-running":
            m.title = f"All {len(state.manifest.services)} services running"
    return out


def verdict_of(state: SessionState) -> Verdict:
    """The session's verdict, computed once (at the session's end, or when a report asks first): the gate's
    PASSED / FAILED / INCOMPLETE (a failed test outside every metric fails a gate too), or INFORMATIVE without one."""
    if state.verdict is not None:
        return state.verdict
    all_statuses = statuses(state)
    if state.gate is None:
        return Verdict("no", "INFORMATIVE", [], all_statuses)
    verdict, problems = gate_verdict(all_statuses)
    unmetered = sorted(set(state.unmetered))
    if unmetered:
        verdict = GATE_FAILED
        problems.append(f"{len(unmetered)} test(s) outside the metrics failed: {', '.join(unmetered[:5])}")
    return Verdict(state.gate.name, verdict, problems, all_statuses)


def standin_caveat(state: SessionState) -> str:
    """'on stand-in backends: …' when any service is a stand-in, else ''."""
    standins = state.start.standins if state.start else {}
    return ("on stand-in backends: " + ", ".join(sorted(standins))) if standins else ""


def backends_of(state: SessionState) -> dict[str, str]:
    """What the verdict stands on: each backend (real / stand-in / real weights behind a stand-in API), the
    stand-ins, the GPU."""
    start = state.start
    out = {f"backend.{name}": line for name, line in (start.backends if start else {}).items()}
    out["standins"] = ", ".join(f"{svc} (for {what})" for svc, what in (start.standins if start else {}).items()) \
        or ("none: every backend is real" if start and start.stack else "unknown: no stack started")
    out["gpu"] = ("yes" if "gpu" in start.profiles else "no") if start else "unknown: no stack started"
    return out


@pytest.hookimpl(tryfirst=True)  # before junitxml writes its file (the caveat goes into it as properties)
def pytest_sessionfinish(session: pytest.Session) -> None:
    """The verdict, once: a gate that is not PASSED fails the session even when every test that ran passed (a skip
    or a missing test); metrics.json is written for every session that has metric results, and the JUnit file
    carries the verdict and its caveat as testsuite properties."""
    state = state_of(session.config)
    state.finished = time.time()
    state.verdict = verdict_of(state)
    if state.gate is not None and session.exitstatus in (0, 1, 5) and state.verdict.verdict != GATE_PASSED:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
    if any(m.results for m in state.verdict.statuses):
        if session.exitstatus in (0, 1):  # an interrupted or broken session is no run to keep
            keep_history(session.config, state)
        write_metrics_json(state)
        junit_properties(session.config, state)


def junit_properties(config: pytest.Config, state: SessionState) -> None:
    """stackgate.gate, .verdict, .caveat, .backend.<name>, .standins, .gpu as <property> of the JUnit testsuite."""
    try:
        from _pytest.junitxml import xml_key  # the LogXML of --junitxml (what record_testsuite_property writes to)
    except ImportError:
        return
    xml = config.stash.get(xml_key, None)
    if xml is None:
        return
    v = state.verdict or verdict_of(state)
    props = {"gate": v.gate, "verdict": v.verdict, "caveat": standin_caveat(state) or "none", **backends_of(state)}
    if state.facts is not None:
        props |= {"facts.seed": str(state.facts.seed), "facts.phrasing": state.facts.phrasing}
    for key, value in props.items():
        xml.add_global_property(f"stackgate.{key}", value)


def write_metrics_json(state: SessionState) -> None:
    """reports/metrics.json: the gate, its verdict and problems, each metric's status and its tests."""
    v = state.verdict or verdict_of(state)
    folder = reports_dir()
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "metrics.json").write_text(json.dumps({
        "gate": v.gate, "verdict": v.verdict, "problems": v.problems, "caveat": standin_caveat(state),
        "backends": backends_of(state),
        "facts": state.facts.__dict__ if state.facts is not None else None,
        "metrics": [{"metric": m.metric, "title": m.title, "status": m.status, "why": m.why, "required": m.required,
                     "tests": [r.__dict__ for r in m.results]} for m in v.statuses],
        "spans": spans_of(state)}, indent=2))


def spans_of(state: SessionState) -> list[dict]:
    """Where the session's time went: each recorded span, in seconds from the session's start, and the session."""
    t0 = state.session_started
    rows = [("session (pytest start to verdict)", t0, state.finished or time.time()), *state.spans]
    return [{"name": n, "start_s": round(a - t0, 2), "end_s": round(b - t0, 2)} for n, a, b in sorted(rows, key=lambda r: r[1])]
