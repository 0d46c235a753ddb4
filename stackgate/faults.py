"""Fault injection: break a throw-away copy of stack/, run part of the suite against it, and require
that the named tests fail with a message naming the right metric and service, and nothing else fails.

A fault is data: an edit of the copy (compose, environment, manifest) and, for a running stack, an
action after start. Static faults run the compose contract only; dynamic faults are grouped so
that one broken stack serves several faults on different services.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from stackgate.core.errors import StackgateError
from stackgate.core.metrics import METRICS, names_finding, tag
from stackgate.core.paths import ROOT, STACK, reports_dir
from stackgate.engines.compose import StackRun
from stackgate.verdict.html import Raw, page, table

from .manifest import load as load_manifest

STACK_DIR = STACK
SUITE = "stackgate_suite"
CONTRACT = [f"{SUITE}/contract/test_compose_contract.py", f"{SUITE}/contract/test_runtime_contract.py",
            f"{SUITE}/contract/test_security.py"]
SMOKE = [f"{SUITE}/smoke", f"{SUITE}/contract/test_routing.py", f"{SUITE}/contract/test_ollama_api.py",
         f"{SUITE}/contract/test_openai_api.py"]
RELEASE = [*SMOKE, f"{SUITE}/resilience", f"{SUITE}/isolation", f"{SUITE}/rollback",  # the release gate's paths
           f"{SUITE}/regressions"]

REPORT_DIR = reports_dir() / "faults"
Edit = Callable[[Path], None]
Action = Callable[[str], None]  # gets the compose project name


# --- edits of the copy ------------------------------------------------------------------------

def compose_edit(file: str, fn: Callable[[dict], None]) -> Edit:
    """An edit of one compose file of the copy (YAML in, YAML out)."""
    def apply(stack_dir: Path) -> None:
        path = stack_dir / file
        doc = yaml.safe_load(path.read_text())
        fn(doc)
        path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return apply


def set_env(service: str, var: str, value: str | None, file: str = "docker-compose-separated.yml") -> Edit:
    """Set (or, with None, remove) one environment variable of a service."""
    def fn(doc: dict) -> None:
        env = doc["services"][service].setdefault("environment", {})
        if value is None:
            env.pop(var, None)
        else:
            env[var] = value
    return compose_edit(file, fn)


def set_key(service: str, key: str, value: object, file: str = "docker-compose-separated.yml") -> Edit:
    """Set one key of a service's definition."""
    return compose_edit(file, lambda doc: doc["services"][service].__setitem__(key, value))


def replace_in(file: str, old: str, new: str) -> Edit:
    """Replace text in one file of the copy (it must be there)."""
    def apply(stack_dir: Path) -> None:
        path = stack_dir / file
        text = path.read_text()
        if old not in text:
            raise ValueError(f"fault edit: {old!r} not in {file}")
        path.write_text(text.replace(old, new))
    return apply


def write_file(file: str, text: str) -> Edit:
    """Add a file to the copy (e.g. a script a fault mounts over the image's)."""
    def apply(stack_dir: Path) -> None:
        (stack_dir / file).write_text(text)
    return apply


def add_script(src: str) -> Edit:
    """Add a <script src=...> to the copy's frontend page (mounted over the image's by the fault)."""
    def apply(stack_dir: Path) -> None:
        page = stack_dir / "services/app/static/index.html"
        page.write_text(page.read_text().replace("</head>", f'  <script src="{src}"></script>\n</head>'))
    return apply


def exec_in(service: str, shell: str) -> Action:
    """Run a shell command inside a service's container of the project (after start)."""
    def act(project: str) -> None:
        subprocess.run(["docker", "compose", "-p", project, "exec", "-T", service, "sh", "-c", shell],
                       check=True, capture_output=True, timeout=60)
    return act


def exec_detached(service: str, shell: str) -> Action:
    """Start a shell command inside a service's container and leave it running (after start)."""
    def act(project: str) -> None:
        subprocess.run(["docker", "compose", "-p", project, "exec", "-d", "-T", service, "sh", "-c", shell],
                       check=True, capture_output=True, timeout=60)
    return act


def foreign_container(service: str, image: str, network: str) -> Action:
    """A container labelled as a service of the project that no compose file of it defines (e.g. a renamed
    service that `up` without --remove-orphans never removed), on the stack's network."""
    def act(project: str) -> None:
        subprocess.run(["docker", "run", "-d", "--name", f"{project}-{service}-1", "--network", f"{project}_{network}",
                        "--label", f"com.docker.compose.project={project}",
                        "--label", f"com.docker.compose.service={service}",
                        "--label", "com.docker.compose.oneoff=False", "--label", "com.docker.compose.container-number=1",
                        image, "sleep", "infinity"],
                       check=True, capture_output=True, timeout=60)
    return act


def stop(service: str) -> Action:
    """Stop a service's container (after start)."""
    def act(project: str) -> None:
        subprocess.run(["docker", "compose", "-p", project, "stop", service], check=True, capture_output=True,
                       timeout=120)
    return act


# --- a fault (the catalogue of this repository's stack is data: tests_faults/catalogue.py) ---------

@dataclass(frozen=True)
class Fault:
    """One way to break the stack, and how the suite must react."""

    id: str
    description: str
    edits: tuple[Edit, ...]
    must_fail: tuple[str, ...]          # regexes over 'module::test[param]' that must fail
    metric: str                          # metric the must_fail messages name
    service: str                         # service the must_fail messages name
    may_fail: tuple[str, ...] = ()       # declared consequences (not accidents)
    group: str = "static"                # 'static', or the dynamic group sharing one broken stack
    actions: tuple[Action, ...] = ()     # after start (dynamic groups run the stack themselves)
    env: tuple[tuple[str, str], ...] = ()  # environment of the suite run (e.g. a browser that cannot start)
    watch_logs_s: float = 0.0            # how long the group's log scan must keep watching
    status: str = "FAIL"                 # what the metric must read: FAIL, or UNKNOWN (evidence missing)
    suite: str = "smoke"                 # the tests its group runs: smoke, resilience, isolation, rollback (+ smoke),
                                         # release, or scale (smoke + scale-out on swarm: `make scale`)
    manifest: str = "manifest.yaml"      # the manifest (in stack/) its group is tested against
    tests: str = ""                      # the tests of its suite it needs (a pytest -k expression; "": all of them).
                                         # A group runs the union, or its whole suite when one fault needs all


CLEAN_GROUPS = ("static-clean", "clean")  # false-alarm checks: no fault, no failure
SUITES = {"smoke": SMOKE, "resilience": [*SMOKE, f"{SUITE}/resilience"], "isolation": [*SMOKE, f"{SUITE}/isolation"],
          "rollback": [*SMOKE, f"{SUITE}/rollback"], "release": RELEASE,
          "scale": [*SMOKE, f"{SUITE}/scale"],
          "rollback-only": [f"{SUITE}/rollback"], "isolation-only": [f"{SUITE}/isolation"],
          "resilience-only": [f"{SUITE}/resilience"]}  # a fault's suite


# --- running ----------------------------------------------------------------------------------

@dataclass
class SuiteRun:
    """What a suite run against a (broken) copy produced."""

    failures: dict[str, str] = field(default_factory=dict)  # test id -> its failure message
    passed: int = 0
    skipped: int = 0
    seconds: float = 0.0
    error: str = ""
    metrics: dict[str, dict] = field(default_factory=dict)  # metric id -> its entry of metrics.json
    returncode: int | None = None
    verdict: str = ""                                       # the gate's verdict in metrics.json

    @property
    def ran(self) -> int:
        return self.passed + len(self.failures)


def test_id(case: ET.Element) -> str:
    module = case.get("classname", "").rsplit(".", 1)[-1]
    return f"{module}::{case.get('name')}"


def run_suite(manifest: Path, paths: list[str], extra: list[str], workdir: Path, timeout: float = 900,
              html: Path | None = None, env: dict[str, str] | None = None) -> SuiteRun:
    """Run pytest on paths against manifest in a subprocess; parse its JUnit XML and metrics.json."""
    junit = workdir / "junit.xml"
    argv = [sys.executable, "-m", "pytest", *paths, f"--manifest={manifest}", "-p", "no:cacheprovider",
            "-q", "--no-header", f"--junitxml={junit}", "-o", "addopts=--strict-markers", *extra]
    if html is not None:  # the broken stack's own report: its findings and the logs attached to them
        html.parent.mkdir(parents=True, exist_ok=True)
        argv += [f"--html={html}", "--self-contained-html"]
    t0 = time.monotonic()
    res = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=timeout,
                         env={**os.environ, **(env or {}), "STACKGATE_REPORTS": str(workdir)})
    run = SuiteRun(seconds=round(time.monotonic() - t0, 1), returncode=res.returncode)
    if not junit.exists():
        run.error = f"pytest exited {res.returncode} without a report: {(res.stderr or res.stdout)[-400:]}"
        return run
    for case in ET.parse(junit).getroot().iter("testcase"):
        bad = case.find("failure") if case.find("failure") is not None else case.find("error")
        if bad is not None:
            run.failures[test_id(case)] = (bad.get("message") or bad.text or "").strip()
        elif case.find("skipped") is not None:
            run.skipped += 1
        else:
            run.passed += 1
    metrics = workdir / "metrics.json"
    if metrics.exists():
        data = json.loads(metrics.read_text())
        run.metrics, run.verdict = {m["metric"]: m for m in data["metrics"]}, data.get("verdict", "")
    return run


def broken_copy(faults: list[Fault], workdir: Path) -> Path:
    """A copy of stack/ with every fault's edits applied; returns its manifest path."""
    stack_dir = workdir / "stack"
    shutil.copytree(STACK_DIR, stack_dir, ignore=shutil.ignore_patterns("__pycache__"))
    for fault in faults:
        for edit in fault.edits:
            edit(stack_dir)
    manifests = {f.manifest for f in faults} or {"manifest.yaml"}
    if len(manifests) > 1:
        raise ValueError(f"faults of one group need one manifest, not {sorted(manifests)}")
    return stack_dir / manifests.pop()


def suite_for(group: str, faults: list[Fault], profiles: list[str]) -> tuple[list[str], list[str], dict[str, str]]:
    """(test paths, pytest options, environment) of one group's run."""
    profile_args = ["--stack-profile", next((p for p in profiles if p != "gpu"), "airgap")]
    if group.startswith("static"):
        return CONTRACT, profile_args, {}
    watch = max([f.watch_logs_s for f in faults], default=0.0)
    env = {k: v for f in faults for k, v in f.env}
    if not faults:  # the live false-alarm check: the whole smoke gate, exactly as `make smoke` runs it
        return [SUITE], [*profile_args, "-m", "smoke", "--gate", "smoke", "--watch-logs", str(watch)], env
    suites = {f.suite for f in faults}  # the union of the faults' suites' paths, in SUITES order
    only = ["-k", " or ".join(f"({f.tests})" for f in faults)] if all(f.tests for f in faults) else []
    if "scale" in suites:  # the scaled stack on swarm, exactly as `make scale` runs it
        if suites != {"scale"}:
            raise ValueError(f"group {group}: scale faults run on swarm, apart from {sorted(suites - {'scale'})}")
        return ([SUITE], [*profile_args, "-m", "smoke or scale", "--gate", "scale", "--stack-engine", "swarm",
                                  "--watch-logs", str(watch), *only], env)
    paths = list(dict.fromkeys(p for name, ps in SUITES.items() if name in suites for p in ps))
    return (paths, [*profile_args, "--gate", "smoke" if suites == {"smoke"} else "release", "--watch-logs",
                    str(watch), *only], env)


def run_group(group: str, faults: list[Fault], profiles: list[str], log: Callable[[str], None] = print) -> SuiteRun:
    """Run one group: static faults (or 'static-clean') against the contract; dynamic ones on a stack."""
    with tempfile.TemporaryDirectory(prefix=f"stackgate-fault-{group}-") as tmp:
        workdir = Path(tmp)
        manifest_path = broken_copy(faults, workdir)
        paths, args, env = suite_for(group, faults, profiles)
        html = None if group.startswith("static") else REPORT_DIR / f"{group}.html"
        if not any(f.actions for f in faults):
            # the suite starts the (broken) stack itself, as a release engineer's run would
            return run_suite(manifest_path, paths, args, workdir, html=html, env=env)
        # after-start actions need the stack up first: start it here, then test it in reuse mode
        run = StackRun(load_manifest(manifest_path), profiles, log=lambda _msg: None)
        try:
            try:
                stack = run.start()
            except StackgateError as exc:
                return SuiteRun(error=str(exc))
            for fault in faults:
                for action in fault.actions:
                    action(stack.project)
            return run_suite(manifest_path, paths, [*args, "--stack-reuse", "--stack-owned", "--stack-project",
                                                    stack.project], workdir, html=html, env=env)
        finally:
            run.stop()


@dataclass
class Verdict:
    fault: Fault | None
    group: str
    caught: bool
    problems: list[str]
    seconds: float


def header(fault: Fault) -> str:
    """The start of a finding about the fault's own metric and service: '[Title] service'."""
    return tag(fault.metric, fault.service)


def names_fault(fault: Fault, message: str, any_metric: bool = False) -> bool:
    """True when a failure message carries a finding about the fault's service: on the fault's own metric, or
    (any_metric) on any metric (a fault may break a second metric too, e.g. routing as well as models)."""
    metrics = METRICS if any_metric else [fault.metric]
    return any(names_finding(message, m, fault.service) for m in metrics)


def claims(fault: Fault, test: str, message: str, caught: bool) -> bool:
    """True when a failure is the fault's: one of its expected tests, or (once the fault itself was caught)
    a declared consequence. A consequence belongs to this one fault, never to the group."""
    if any(re.search(p, test) for p in fault.must_fail):
        return True
    return caught and any(re.search(p, test) for p in fault.may_fail)


def caught_problems(fault: Fault, run: SuiteRun) -> list[str]:
    """Why the fault was not caught for the right reason (empty when it was)."""
    problems, hits = [], []
    for pattern in fault.must_fail:
        matched = {t: m for t, m in run.failures.items() if re.search(pattern, t)}
        hits += matched.values()
        if not matched:
            problems.append(f"missed: no failing test matches {pattern}")
        elif not any(names_fault(fault, m, any_metric=True) for m in matched.values()):
            problems.append(f"{pattern} failed, but without a finding about {fault.service}: "
                            f"{next(iter(matched.values()))[:200]}")
    if hits and not any(names_fault(fault, m) for m in hits):
        problems.append(f"no failure carries a finding {header(fault)!r}")
    status = run.metrics.get(fault.metric, {})
    if status.get("status") != fault.status:
        problems.append(f"metric {fault.metric} reads {status.get('status', 'nothing')} (expected {fault.status})")
    elif fault.status != "FAIL" and not names_fault(fault, status.get("why", "") + " " + json.dumps(status.get("tests", []))):
        problems.append(f"metric {fault.metric} reads {fault.status} without a finding {header(fault)!r}: "
                        f"{status.get('why', '')[:200]}")
    if run.verdict and fault.status == "UNKNOWN" and run.returncode == 0:
        problems.append("the gate is incomplete, but pytest exited 0")
    return problems


def judge(faults: list[Fault], run: SuiteRun, group: str) -> list[Verdict]:
    """Per fault: caught when each expected test failed with a finding on the fault's metric and service and
    the metric reads as expected; a failure that no caught fault of the group claims is an accident that
    fails every fault of the group; a clean group must have run tests."""
    if run.error:
        return [Verdict(f, group, False, [run.error], run.seconds) for f in faults] or \
            [Verdict(None, group, False, [run.error], run.seconds)]
    problems = {f.id: caught_problems(f, run) for f in faults}
    caught = {f.id: not problems[f.id] for f in faults}
    accidents = [f"unexpected failure: {t}: {m[:200]}" for t, m in run.failures.items()
                 if not any(claims(f, t, m, caught[f.id]) for f in faults)]
    if not faults:
        if run.ran == 0:
            accidents.append("no test ran: a clean group proves nothing")
        else:
            # a metric some test of this run proves must not be left without evidence (a skip) either
            accidents += [f"metric {k} reads {v['status']}: {v.get('why', '')[:200]}" for k, v in run.metrics.items()
                          if v["status"] in ("FAIL", "UNKNOWN") and v.get("required", True) and v.get("tests")]
            if run.verdict not in ("", "INFORMATIVE") and (run.verdict != "PASSED" or run.returncode != 0):
                accidents.append(f"the gate read {run.verdict} and pytest exited {run.returncode} (expected PASSED, 0)")
        return [Verdict(None, group, not accidents, [f"{run.ran} test(s) ran", *accidents], run.seconds)]
    return [Verdict(f, group, caught[f.id] and not accidents, problems[f.id] + accidents, run.seconds) for f in faults]


def run_catalogue(catalogue: tuple[Fault, ...], profiles: list[str], log: Callable[[str], None] = print) -> list[Verdict]:
    """Every group: static ones two at a time beside the dynamic ones, which run one after another
    (they share the stack's published ports)."""
    from concurrent.futures import ThreadPoolExecutor

    all_groups = groups(catalogue)
    static = {g: f for g, f in all_groups.items() if g.startswith("static")}
    dynamic = {g: f for g, f in all_groups.items() if not g.startswith("static")}

    def one(item: tuple[str, list[Fault]]) -> list[Verdict]:
        group, faults = item
        t0 = time.monotonic()
        verdicts = judge(faults, run_group(group, faults, profiles, log), group)
        log(f"faults: group {group}: {', '.join(outcome(v) for v in verdicts)} "
            f"({time.monotonic() - t0:.0f}s)")
        return verdicts

    with ThreadPoolExecutor(max_workers=2) as pool:
        static_future = pool.submit(lambda: [v for item in static.items() for v in one(item)])
        dynamic_verdicts = [v for item in dynamic.items() for v in one(item)]
        return static_future.result() + dynamic_verdicts


def outcome(v: Verdict) -> str:
    """caught / MISSED for a fault; clean / FALSE ALARM for a group without faults."""
    if v.fault is None:
        return "clean" if v.caught else "FALSE ALARM"
    return "caught" if v.caught else "MISSED"


def groups(catalogue: tuple[Fault, ...]) -> dict[str, list[Fault]]:
    """group -> its faults, with the two false-alarm groups (no faults) included."""
    out: dict[str, list[Fault]] = {g: [] for g in CLEAN_GROUPS}
    for fault in catalogue:
        if fault.group == "static":
            out.setdefault(f"static-{fault.id}", []).append(fault)
        else:
            out.setdefault(fault.group, []).append(fault)
    return out


def html_table(verdicts: list[Verdict]) -> str:
    """reports/faults.html: fault, expected failing test, caught, time."""
    import html as h

    rows = []
    for v in verdicts:
        name = v.fault.id if v.fault else f"(no fault: {v.group})"
        desc = v.fault.description if v.fault else "a clean stack must produce no failure"
        expect = "<br>".join(h.escape(p) for p in v.fault.must_fail) if v.fault else "none"
        colour = "#16794c" if v.caught else "#b42318"
        group = Raw(f"<a href='faults/{h.escape(v.group)}.html'>{h.escape(v.group)}</a>") if not v.group.startswith(
            "static") else v.group
        rows.append([name, desc, group, Raw(f"<code>{expect}</code>"),
                     Raw(f"<span style='color:{colour};font-weight:bold'>{h.escape(outcome(v))}</span>"),
                     f"{v.seconds:.1f}", "; ".join(v.problems)[:600]])
    return page("stackgate fault catalogue", "<h1>Fault catalogue</h1><p>Each fault is applied to a throw-away copy "
                "of stack/; the suite must fail exactly the expected tests, naming the metric and the service.</p>"
                + table(["Fault", "What", "Group", "Expected failing test", "Result", "Group time (s)", "Problems"],
                        rows))
