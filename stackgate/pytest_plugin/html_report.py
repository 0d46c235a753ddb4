"""The HTML report's sections (pytest-html's hooks, optional: the plugin loads without pytest-html): the banner
and title, the metrics table, the start-up timeline, the log windows, recoveries, isolation, scale-out and security."""

from __future__ import annotations

import html
import time
from urllib.parse import quote

import pytest

from stackgate.verdict.html import Raw, table
from stackgate.verdict.report import banner, format_utc, latency_bars_svg, page_title, timeline_svg

from .history import since_html
from .results import standin_caveat, verdict_of
from .state import MemoryBudget, Recovery, SessionState, state_of
from .tested import tested_rows

COLOURS = {"PASS": "#16794c", "FAIL": "#b42318", "UNKNOWN": "#8a6d00", "SKIPPED": "#555"}
_HTML_REPORT: list = []  # pytest-html's report data, kept from the title hook (called at session start)


def metrics_html(state: SessionState) -> str:
    rows = []
    for m in verdict_of(state).statuses:
        tests = "".join(f"<li><a href='#{html.escape(quote(r.nodeid, safe=''))}'>{html.escape(r.nodeid)}</a>: "
                        f"{r.outcome}</li>" for r in m.results)
        detail = f"<details><summary>{len(m.results)} test(s)</summary><ul>{tests}</ul></details>" if tests else "no test ran"
        why = html.escape(m.why) + (f"<br><small>{html.escape(m.reason)}</small>" if m.reason else "")
        rows.append([Raw(f"<span style='color:#1f2328'>{html.escape(m.title)}</span>"),
                     Raw(f"<span style='color:{COLOURS.get(m.status, '#777')};font-weight:bold'>"
                         f"{html.escape(m.status)}</span>"), Raw(f"<span style='color:#1f2328'>{detail}</span>"),
                     Raw(f"<span style='color:#1f2328'>{why}</span>")])
    return table(["Metric", "Status", "Evidence", "Why"], rows, title="Success metrics", cls="stackgate-metrics")


def timeline_html(state: SessionState) -> str:
    stack = state.start.stack if state.start else None
    if stack is None or stack.reused:
        return ""
    first = bool(stack.first_run)
    rows = [(n, stack.healthy_after_s.get(n), stack.manifest.expected_healthy_s(n, first)) for n in stack.manifest.services]
    note = ("expected: the seed's first-run timeline (the model volumes were empty before `up`, so every model was "
            "pulled)" if first else "expected: the seed's later-start timeline (the model volumes already held models)")
    images = table(["Service", "Image"], sorted(state.start.images.items()))
    return (timeline_svg(rows, "Start-up timeline: seconds from `up` to healthy", note)
            + f"<details><summary>Images</summary>{images}</details>")


def log_windows_html(state: SessionState) -> str:
    rows = [[n, format_utc(b), format_utc(e), f"{e - b:.0f}"] for n, (b, e) in state.log_windows.items()]
    body = table(["Service", "From (healthy)", "To", "Seconds"], rows)
    return f"<details><summary>Log windows scanned for errors</summary>{body}</details>" if body else ""


def disruptions_html(state: SessionState) -> str:
    """Each disruption's own log window, and the error lines found in it: declared (with why) or not."""
    if not state.disruptions:
        return ""
    rows = [[d.kind, d.target, format_utc(d.start), f"{(d.end or d.start) - d.start:.0f}"] for d in state.disruptions]
    body = table(["Disruption", "Of", "From", "Seconds (+5 s settle)"], rows)
    found = [[svc, label, "expected: " + why, line[:200]] for svc, scan in sorted(state.disruption_scans.items())
             for label, line, why in scan.expected]
    found += [[svc, label, "NOT DECLARED", line[:200]] for svc, scan in sorted(state.disruption_scans.items())
              for label, line in scan.unexpected]
    if found:
        body += table(["Service", "During", "Judged", "Line"], found, title="Error lines logged during disruptions")
    return f"<details><summary>Disruptions and the logs written during them</summary>{body}</details>"


def recoveries_html(state: SessionState) -> str:
    rows = [[r.what, r.service, "did not recover" if r.seconds is None else f"{r.seconds:.1f}", r.detail]
            for r in (Recovery(*row) for row in state.recoveries)]
    return table(["Disruption", "Service", "Seconds until its dependents worked", "Detail"], rows,
                 title="Recovery times")


def health_coverage_html(state: SessionState) -> str:
    """The matrix app x dependency: what each app's healthcheck did while one store or Ollama was paused."""
    cov = state.health_coverage
    if cov is None:
        return ""
    deps = sorted({d for row in cov.cells.values() for d in row} | set(cov.not_paused))

    def cell(app: str, dep: str) -> str:
        c = cov.cells.get(app, {}).get(dep)
        if c is None:
            return "not paused: " + cov.not_paused.get(dep, "?")
        if c.required:
            return "covered" if c.covered else "IGNORED (must cover)"
        return "fails too" if c.covered else "-"
    rows = [[app, *(cell(app, d) for d in deps)] for app in sorted(cov.cells)]
    return table(["App \\ paused", *deps], rows, title="Health coverage: each app's healthcheck while one dependency "
                 "was paused", note="covered / IGNORED: a dependency its health must cover (health_covers, else its "
                 "depends_on); 'fails too' / '-': one it need not cover.")


def rollback_html(state: SessionState) -> str:
    """The rollback's steps and what it had to pull: the kept model volumes against the models each Ollama needs."""
    rb = state.rollback
    if rb is None:
        return ""
    sizes = state.manifest.memory.models if state.manifest.memory else {}
    rows = [[n.ollama, n.volume, ("created by the gate (absent): " if n.created else "kept: ") + (", ".join(n.held) or
             "empty"), ", ".join(n.missing) or "none", "-" if not n.missing else
             (f"{n.gib(state.manifest):.1f}" if n.gib(state.manifest) is not None else "?")] for n in rb.needs]
    out = table(["Ollama", "Model volume", "Held before the rollback", "Must pull", "GiB to pull"], rows,
                title="Rollback: models it must pull (the registry is unreachable during it)",
                note="Sizes: the download sizes in the manifest's memory section." if sizes else "")
    steps = [[s.name, f"{s.seconds:.1f}", "ok" if s.ok else "FAILED"] for s in rb.steps]
    return out + table(["Step", "Seconds", ""], steps, title="Rollback steps")


def memory_html(state: SessionState) -> str:
    """Each Ollama's worst case in memory (its OLLAMA_MAX_LOADED_MODELS largest models) against its limit."""
    rows = []
    for where, row in sorted(state.memory_budgets.items()):
        b = MemoryBudget(*row)
        held = f"{b.max_loaded} of {b.models}" if b.max_loaded else f"? of {b.models}"
        rows.append([where, held, ", ".join(b.worst) or "-", f"{b.need_gib:.1f}" if b.need_gib else "-",
                     "none" if b.limit_gib is None else f"{b.limit_gib:.1f}",
                     "fits" if b.limit_gib and b.need_gib and b.need_gib <= b.limit_gib else "DOES NOT FIT"])
    return table(["Profile, layout, Ollama", "Models loaded at once (max of held)", "Worst case", "GiB needed",
                  "Limit GiB", ""], rows, title="Memory: what each Ollama may load at once against its limit",
                 note="Needs from the manifest's `memory` (weights + KV cache per slot + overhead, plus headroom).")


def isolation_html(state: SessionState) -> str:
    runs = state.isolation
    if not runs:
        return ""
    rows = [[r["layout"], r["service"], f"{r['idle']['p50_s']:.2f}", f"{r['idle']['p95_s']:.2f}",
             f"{r['loaded']['p50_s']:.2f}", f"{r['loaded']['p95_s']:.2f}", f"{r['bound_s']:.2f}",
             f"{r['burst']['ok']} of {r['burst']['sent']}"] for r in runs]
    groups = [(r["layout"], {"idle p50": r["idle"]["p50_s"], "idle p95": r["idle"]["p95_s"],
                             "loaded p50": r["loaded"]["p50_s"], "loaded p95": r["loaded"]["p95_s"]}) for r in runs]
    chart = latency_bars_svg(groups, "LLM latency, idle and under the vision burst (s)",
                             {r["layout"]: r["bound_s"] for r in runs})
    return table(["Layout", "Timed service", "Idle p50 s", "Idle p95 s", "Loaded p50 s", "Loaded p95 s", "Bound s",
                  "Burst requests served"], rows, title="Isolation: LLM latency under a vision burst",
                 note=runs[0]["rule"]) + chart


def scale_html(state: SessionState) -> str:
    """The scale-out section: work each replica served in a burst, and what losing a replica cost."""
    found = state.scale
    rows = [[b["ollama"], b["via"], f"{b['ok']} of {b['sent']}", f"{b['seconds']:.1f}",
             ", ".join(f"replica {s}: {n}" for s, n in sorted(b["per_replica"].items())) or "none seen"]
            for b in found.get("bursts", [])]
    out = table(["Ollama", "Burst through", "Answered", "Seconds", "Work requests per replica (its access log)"], rows,
                title="Scale-out: work requests each replica served in a burst",
                note="Each replica's own [GIN] access log, counted from the burst's start; the services reach the "
                     "Ollama by its service name (DNS round-robin over the replicas).")
    rows = [[x["ollama"], str(x["slot"]), x["via"], f"{x['failed']} of {x['sent']}",
             "did not recover" if x["recovered_s"] is None else f"{x['recovered_s']:.1f}",
             "; ".join(x["failures"]) or "-"] for x in found.get("losses", [])]
    return out + table(["Ollama", "Replica killed", "Burst through", "Failed requests",
                        "Seconds until every replica was healthy again", "Failures"], rows,
                       title="Scale-out: one replica killed during a burst")


def security_html(state: SessionState) -> str:
    rows = [[rule, sev, str(len(where)), ", ".join(sorted(where))[:300], why]
            for (rule, sev, why), where in sorted(state.security_findings.items())]
    return table(["Rule", "Severity", "Count", "Where", "Suppressed because (OPEN: not suppressed)"], rows,
                 title="Security findings (compose-lint over the production files)")


@pytest.hookimpl(optionalhook=True)
def pytest_html_report_title(report) -> None:  # noqa: ANN001 - pytest-html's report data object
    """Keep the report object: its title names the gate and verdict, known only at the session's end."""
    _HTML_REPORT[:] = [report]
    report.title = "stackgate"


@pytest.hookimpl(optionalhook=True)
def pytest_html_results_summary(prefix: list, summary: list, postfix: list, session: pytest.Session) -> None:
    state = state_of(session.config)
    v = verdict_of(state)
    for report in _HTML_REPORT:  # the title names the gate; pytest's Python/Platform/Packages block goes away
        report.title = page_title(v.gate, v.verdict)
        report.set_data("environment", {})
    started = state.session_started
    prefix.append(banner(v.gate, v.verdict, v.problems, tested_rows(state), started,
                         (state.finished or time.time()) - started, standin_caveat(state)))
    for section in (since_html, metrics_html, timeline_html, log_windows_html, disruptions_html, recoveries_html,
                    health_coverage_html, rollback_html, memory_html, isolation_html, scale_html, security_html):
        prefix.append(section(state))
