"""A history of gate runs: one JSON record per run in the history folder, the baseline a run is compared with
(the same gate, manifest digest and profile, never another), the comparison, and the regressions that the
manifest's bounds find in it."""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from stackgate.core.errors import StackgateError
from stackgate.core.metrics import finding
from stackgate.manifest import History

SCHEMA = 1


@dataclass
class Record:
    """One gate run, as the history keeps it."""

    id: str                       # '<UTC stamp>-<gate>-<pid>', also the file's name
    when: float
    gate: str
    verdict: str
    stack_commit: str
    manifest: str
    manifest_digest: str
    profile: str
    engine: str = "compose"
    backends: dict[str, str] = field(default_factory=dict)
    metrics: dict[str, str] = field(default_factory=dict)          # metric -> status
    tests: dict[str, dict] = field(default_factory=dict)           # nodeid -> {outcome, seconds}
    startup_s: dict[str, float] = field(default_factory=dict)      # service -> seconds from `up` to healthy
    own_start_s: dict[str, float] = field(default_factory=dict)    # service -> healthy after its dependencies were
    steps_s: dict[str, float] = field(default_factory=dict)        # 'roundtrip/kind/step' -> seconds of its request
    step_services: dict[str, str] = field(default_factory=dict)    # 'roundtrip/kind/step' -> the service it asks
    isolation: list[dict] = field(default_factory=list)            # layout, idle / loaded p50 / p95
    recoveries: list[dict] = field(default_factory=list)           # what, service, seconds
    rollback_steps: list[dict] = field(default_factory=list)       # name, seconds, ok
    security: list[str] = field(default_factory=list)              # 'rule (severity) service (file)'
    schema: int = SCHEMA

    @property
    def kind(self) -> tuple[str, str, str]:
        """What a record may be compared with: the same gate, manifest (by digest) and profile."""
        return self.gate, self.manifest_digest, self.profile

    @property
    def commit(self) -> str:
        return self.stack_commit.split(" ", 1)[0]

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=1, sort_keys=True)

    @classmethod
    def from_dict(cls, raw: dict) -> Record:
        """A record from its JSON; TypeError / ValueError for one that is not a record of this shape."""
        known = {k: raw[k] for k in cls.__dataclass_fields__ if k in raw}
        record = cls(**known)
        for name in ("metrics", "tests", "startup_s", "own_start_s", "steps_s", "step_services", "backends"):
            if not isinstance(getattr(record, name), dict):
                raise ValueError(f"{name} is not a mapping")
        if not all(isinstance(t, dict) and "outcome" in t for t in record.tests.values()):
            raise ValueError("a test without an outcome")
        if not all(isinstance(r, dict) and "layout" in r for r in record.isolation):
            raise ValueError("an isolation run without its layout")
        return record


def new_id(when: float, gate: str, pid: int) -> str:
    return time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(when)) + f"-{gate}-{pid}"


def write(record: Record, folder: Path) -> Path:
    """Append the record to the history (one file per run); its path."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{record.id}.json"
    path.write_text(record.to_json())
    return path


def read(path: Path) -> Record:
    """One record; StackgateError (one line) when it is not a record."""
    try:
        return Record.from_dict(json.loads(path.read_text()))
    except (OSError, ValueError, TypeError, AttributeError) as exc:
        raise StackgateError(f"history: {path} is not a stackgate run record: {exc}") from None


def load_all(folder: Path) -> list[Record]:
    """Every record in the folder, oldest first (files that are no record are skipped)."""
    out = []
    for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        try:
            out.append(read(path))
        except StackgateError:
            continue
    return sorted(out, key=lambda r: r.when)


def baseline(records: list[Record], current: Record, spec: str = "last", runs: int = 3) -> list[Record]:
    """The runs the current one is compared with, newest last: `last` (the last `runs` PASSED runs of the same
    kind), a record file's path, or a stack commit (every PASSED run of the same kind on that commit). Never a
    record of another gate, manifest or profile; a failed, incomplete or interrupted run is no baseline."""
    same = [r for r in records if r.kind == current.kind and r.id != current.id and r.when <= current.when
            and r.verdict == "PASSED"]
    if spec == "last":
        return same[-runs:]
    path = Path(spec)
    if path.suffix == ".json" and path.is_file():
        chosen = read(path)
        if chosen.kind != current.kind:
            raise StackgateError(f"--baseline {spec}: a run of gate {chosen.gate}, profile {chosen.profile} and another "
                                 "manifest cannot be compared with this one")
        return [chosen]
    on_commit = [r for r in same if r.commit.startswith(spec)]
    if not on_commit:
        raise StackgateError(f"--baseline {spec}: no kept run of this gate, manifest and profile on stack commit {spec}")
    return on_commit


def _median(values: Iterable[float]) -> float | None:
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


@dataclass
class Delta:
    """A figure now against its baseline (the median over the baseline runs that have it)."""

    what: str
    base: float | None
    now: float | None
    service: str = ""   # whose figure it is (a step's service), for the finding

    @property
    def change(self) -> str:
        if self.base is None or self.now is None:
            return "new" if self.base is None else "gone"
        pct = (self.now - self.base) / self.base * 100 if self.base else 0.0
        return f"{self.now - self.base:+.1f} s ({pct:+.0f} %)"


@dataclass
class Comparison:
    """What changed since the baseline, and the regressions the bounds find."""

    baseline: list[str]                                   # record ids
    metrics_changed: list[tuple[str, str, str]] = field(default_factory=list)   # metric, before, now
    newly_failing: list[str] = field(default_factory=list)
    newly_passing: list[str] = field(default_factory=list)
    unstable: list[tuple[str, int]] = field(default_factory=list)               # nodeid, status changes
    startup: list[Delta] = field(default_factory=list)
    own_start: list[Delta] = field(default_factory=list)   # each service's own start (after its dependencies)
    steps: list[Delta] = field(default_factory=list)
    isolation: list[Delta] = field(default_factory=list)
    security_new: list[str] = field(default_factory=list)
    security_gone: list[str] = field(default_factory=list)
    regressions: list[str] = field(default_factory=list)
    not_judged: str = ""   # why the regressions were not judged (too few baseline runs), else ''


def flips(statuses: list[str]) -> int:
    """How often a test's outcome changed along its runs."""
    return sum(1 for a, b in zip(statuses, statuses[1:]) if a != b)


def unstable_tests(runs: list[Record], window: int) -> list[tuple[str, int]]:
    """Tests whose outcome changed at least twice in the last `window` runs (passed, failed, passed: once may
    be a fix or a break; twice is flapping)."""
    last = runs[-window:]
    names = sorted({n for r in last for n in r.tests})
    out = []
    for name in names:
        outcomes = [r.tests[name]["outcome"] for r in last if name in r.tests and r.tests[name]["outcome"] in
                    ("passed", "failed")]
        n = flips(outcomes)
        if n >= 2:
            out.append((name, n))
    return out


def compare(current: Record, base: list[Record], bounds: History, kept: list[Record] | None = None) -> Comparison:
    """The comparison of current with its baseline runs (base, newest last); kept: every earlier run of the same
    kind (whose outcomes, with current's, tell which tests are unstable; default: base)."""
    out = Comparison([r.id for r in base])
    if not base:
        return out
    last = base[-1]
    for metric, now in sorted(current.metrics.items()):
        before = last.metrics.get(metric)
        if before is not None and before != now:
            out.metrics_changed.append((metric, before, now))
    for name, t in sorted(current.tests.items()):
        before = last.tests.get(name, {}).get("outcome")
        if t["outcome"] == "failed" and before == "passed":
            out.newly_failing.append(name)
        elif t["outcome"] == "passed" and before == "failed":
            out.newly_passing.append(name)
    out.unstable = unstable_tests([*(kept if kept is not None else base), current], bounds.unstable_window)
    for service in sorted(set(current.startup_s) | {s for r in base for s in r.startup_s}):
        out.startup.append(Delta(service, _median(r.startup_s.get(service) for r in base),
                                 current.startup_s.get(service)))
    for service in sorted(set(current.own_start_s) | {s for r in base for s in r.own_start_s}):
        out.own_start.append(Delta(service, _median(r.own_start_s.get(service) for r in base),
                                   current.own_start_s.get(service)))
    for step in sorted(set(current.steps_s) | {s for r in base for s in r.steps_s}):
        out.steps.append(Delta(step, _median(r.steps_s.get(step) for r in base), current.steps_s.get(step),
                               current.step_services.get(step, step.split("/", 1)[0])))
    for run in current.isolation:
        for key in ("idle_p50_s", "loaded_p50_s", "loaded_p95_s"):
            label = f"{run['layout']} {key.removesuffix('_s').replace('_', ' ')}"
            out.isolation.append(Delta(label, _median(r.get(key) for b in base for r in b.isolation
                                                      if r["layout"] == run["layout"]), run.get(key)))
    before = {f for r in base for f in r.security}
    out.security_new = sorted(set(current.security) - before)
    out.security_gone = sorted(set(last.security) - set(current.security))
    if len(base) < bounds.min_baseline_runs:
        out.not_judged = (f"the history holds {len(base)} of the {bounds.min_baseline_runs} PASSED runs a baseline "
                          "needs: the figures are shown, not judged (one run's noise would false-alarm)")
    else:
        out.regressions = regressions(out, bounds)
    return out


def regressions(c: Comparison, bounds: History) -> list[str]:
    """Findings for each figure past its bound (slower than ratio × baseline AND more than slack seconds above),
    and for each new security finding."""
    out = []
    own = any(d.base is not None and d.now is not None for d in c.own_start)
    for d in c.own_start if own else c.startup:  # its own start when recorded: a slow machine slows every service
        if d.base is not None and d.now is not None and d.now > d.base * bounds.startup_ratio \
                and d.now - d.base > bounds.startup_slack_s:
            what = "healthy, after its dependencies were," if own else "healthy"
            out.append(finding("regressions", d.what, f"{what} within {bounds.startup_ratio:g} × its baseline "
                               f"{d.base:.1f} s (+{bounds.startup_slack_s:g} s)", f"{d.now:.1f} s"))
    for d in c.steps:
        if d.base is not None and d.now is not None and d.now > d.base * bounds.step_ratio \
                and d.now - d.base > bounds.step_slack_s:
            out.append(finding("regressions", d.service or d.what, f"step {d.what} answered within "
                               f"{bounds.step_ratio:g} × its baseline {d.base:.2f} s (+{bounds.step_slack_s:g} s)",
                               f"{d.now:.2f} s"))
    if bounds.new_security_findings:
        for f in c.security_new:
            out.append(finding("regressions", f.split(" ")[2] if f.count(" ") >= 2 else "stack",
                               "no security finding that the baseline did not have", f))
    return out


def summary_lines(c: Comparison) -> list[str]:
    """The comparison in a few lines (the terminal's)."""
    if not c.baseline:
        return ["no earlier run of this gate, manifest and profile: nothing to compare with"]
    lines = [f"against {len(c.baseline)} run(s), the last {c.baseline[-1]}"]
    if c.metrics_changed:
        lines.append("metrics changed: " + ", ".join(f"{m} {a} -> {b}" for m, a, b in c.metrics_changed))
    if c.newly_failing:
        lines.append(f"newly failing: {len(c.newly_failing)} ({', '.join(c.newly_failing[:3])})")
    if c.newly_passing:
        lines.append(f"newly passing: {len(c.newly_passing)} ({', '.join(c.newly_passing[:3])})")
    if c.unstable:
        lines.append(f"unstable: {len(c.unstable)} ({', '.join(n for n, _ in c.unstable[:3])})")
    slowest = max((d for d in c.startup if d.base is not None and d.now is not None), key=lambda d: d.now - d.base,
                  default=None)
    if slowest:
        lines.append(f"start-up: biggest change {slowest.what} {slowest.change}")
    if c.security_new or c.security_gone:
        lines.append(f"security findings: {len(c.security_new)} new, {len(c.security_gone)} gone")
    lines.append(f"regressions: not judged: {c.not_judged}" if c.not_judged else
                 f"regressions: {len(c.regressions)}" + (" — " + "; ".join(c.regressions[:3]) if c.regressions else ""))
    return lines
