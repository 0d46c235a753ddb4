"""The history of gate runs: this run's record (appended to --history at the session's end), its comparison
with the baseline (--baseline), the `since_last_release` fixture the regression test judges, and the report's
"Since the last release" section and terminal lines."""

from __future__ import annotations

import hashlib
import html
import os
from pathlib import Path

import pytest

from stackgate.core.errors import StackgateError
from stackgate.core.paths import reports_dir
from stackgate.verdict import history
from stackgate.verdict.charts import trend_svg
from stackgate.verdict.html import table

from .state import Recovery, SessionState, state_of
from .tested import stack_commit


def history_dir(config: pytest.Config) -> Path:
    """--history, else reports/history."""
    return Path(config.getoption("--history") or reports_dir() / "history")


def manifest_digest(state: SessionState) -> str:
    """The manifest's identity: sha256 of its text (and of the manifest it extends, when it does)."""
    path = state.manifest.path
    text = path.read_bytes()
    digest = hashlib.sha256(text)
    for line in text.decode(errors="replace").splitlines():
        if line.startswith("extends:") and (path.parent / line.split(":", 1)[1].strip()).is_file():
            digest.update((path.parent / line.split(":", 1)[1].strip()).read_bytes())
    return digest.hexdigest()[:16]


def record_of(state: SessionState, config: pytest.Config) -> history.Record:
    """This run as the history keeps it (what is known so far: the final record is made at the session's end)."""
    start = state.start
    stack = start.stack if start else None
    v = state.verdict
    when = state.session_started
    gate = state.gate.name if state.gate else "no"
    security = sorted(f"{rule} ({sev}) {where}" for (rule, sev, _why), places in state.security_findings.items()
                      for where in places)
    return history.Record(
        id=history.new_id(when, gate, os.getpid()), when=when, gate=gate, verdict=v.verdict if v else "RUNNING",
        stack_commit=stack_commit(state.manifest.project_dir), manifest=str(state.manifest.path),
        manifest_digest=manifest_digest(state),
        profile="+".join(start.profiles) if start else config.getoption("--stack-profile"),
        engine=stack.engine if stack else config.getoption("--stack-engine"),
        backends=dict(start.backends) if start else {},
        metrics={m.metric: m.status for m in v.statuses} if v else {},
        tests=dict(state.outcomes),
        startup_s=dict(stack.healthy_after_s) if stack is not None and not stack.reused else {},
        own_start_s=dict(start.own_start_s) if start and stack is not None and not stack.reused else {},
        steps_s={k: s for k, (s, _svc) in state.steps.items()},
        step_services={k: svc for k, (_s, svc) in state.steps.items()},
        isolation=[{"layout": r["layout"], "idle_p50_s": r["idle"]["p50_s"], "idle_p95_s": r["idle"]["p95_s"],
                    "loaded_p50_s": r["loaded"]["p50_s"], "loaded_p95_s": r["loaded"]["p95_s"]}
                   for r in state.isolation],
        recoveries=[Recovery(*row)._asdict() for row in state.recoveries],
        rollback_steps=[{"name": s.name, "seconds": s.seconds, "ok": s.ok} for s in state.rollback.steps]
        if state.rollback is not None else [],
        security=security)


def comparison_for(state: SessionState, config: pytest.Config) -> history.Comparison:
    """This run (so far) against its baseline; raises StackgateError for a --baseline that names nothing."""
    current = record_of(state, config)
    kept = [r for r in history.load_all(history_dir(config)) if r.kind == current.kind and r.id != current.id]
    base = history.baseline(kept, current, config.getoption("--baseline") or "last",
                            state.manifest.history.baseline_runs)
    return history.compare(current, base, state.manifest.history, kept)


@pytest.fixture(scope="session")
def since_last_release(pytestconfig: pytest.Config, stack_start, chains) -> history.Comparison:  # noqa: ANN001
    """This run's figures (start-up, round-trip steps, security findings) against the kept runs of the same gate,
    manifest and profile: the comparison the regression test judges."""
    try:
        return comparison_for(state_of(pytestconfig), pytestconfig)
    except StackgateError as exc:
        pytest.fail(str(exc), pytrace=False)


def keep_history(config: pytest.Config, state: SessionState) -> None:
    """Compare this gate run with its baseline (kept for the report) and append its record to the history; a run
    without a gate, or one that collected only, is no release candidate and is not kept."""
    if state.gate is None or config.option.collectonly or not state.outcomes:
        return
    try:
        state.comparison = comparison_for(state, config)
        record = record_of(state, config)
        state.history_path = history.write(record, history_dir(config))
        state.history_runs = [r for r in history.load_all(history_dir(config)) if r.kind == record.kind][-10:]
    except (StackgateError, OSError, ValueError, KeyError, TypeError) as exc:  # the history never breaks a verdict
        state.history_error = f"history: not kept ({type(exc).__name__}: {exc})"


def since_html(state: SessionState) -> str:
    """The report's second screen: what changed since the baseline, and the trends of the last kept runs."""
    c = state.comparison
    if c is None:
        return (f"<h2>Since the last release</h2><p>{html.escape(state.history_error)}</p>"
                if state.history_error else "")
    if not c.baseline:
        return ("<h2>Since the last release</h2><p>No earlier run of this gate, manifest and profile is kept in "
                f"{html.escape(str(state.history_path.parent if state.history_path else ''))}: this run is the "
                "first of its history.</p>")
    rows = [["Metrics whose status changed", "; ".join(f"{m}: {a} → {b}" for m, a, b in c.metrics_changed) or "none"],
            ["Tests newly failing", ", ".join(c.newly_failing) or "none"],
            ["Tests newly passing", ", ".join(c.newly_passing) or "none"],
            ["Unstable tests (outcome changed twice or more in the last "
             f"{state.manifest.history.unstable_window} runs)", ", ".join(f"{n} ({k}×)" for n, k in c.unstable) or "none"],
            ["Security findings new / gone", f"{', '.join(c.security_new) or 'none'} / {', '.join(c.security_gone) or 'none'}"],
            ["Regressions (the manifest's bounds)", c.not_judged or "; ".join(c.regressions) or "none"]]
    head = (f"<h2>Since the last release</h2><p>Against {len(c.baseline)} kept run(s) of the same gate, manifest and "
            f"profile (the median of each figure); the last: {html.escape(c.baseline[-1])}.</p>")
    deltas = [[d.what, "-" if d.base is None else f"{d.base:.2f}", "-" if d.now is None else f"{d.now:.2f}", d.change]
              for d in (*c.startup, *(history.Delta(f"{d.what} (own start)", d.base, d.now) for d in c.own_start), *c.steps,
                        *c.isolation)]
    runs = state.history_runs
    labels = [r.id for r in runs]
    charts = trend_svg("Seconds from `up` to healthy, per service", labels,
                       {s: [r.startup_s.get(s) for r in runs] for s in sorted({s for r in runs for s in r.startup_s})})
    charts += trend_svg("Round-trip step latency (s)", labels,
                        {s: [r.steps_s.get(s) for r in runs] for s in sorted({s for r in runs for s in r.steps_s})})
    return (head + table(["What", "Since the baseline"], rows) + table(["Figure", "Baseline s", "Now s", "Change"], deltas,
                                                  title="Start-up, round-trip steps and isolation against the baseline")
            + charts)


def since_lines(state: SessionState) -> list[str]:
    """The comparison in a few terminal lines."""
    if state.comparison is None:
        return [state.history_error] if state.history_error else []
    return history.summary_lines(state.comparison)
