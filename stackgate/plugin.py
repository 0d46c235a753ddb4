"""The stackgate pytest plugin: options, the session stack fixture, clients, and the report layer.

Fixtures are small and overridable (pytest-docker style): override `stack_profiles` to change the
compose profiles, `manifest` to load another manifest, `stack` to bring your own stack handle.
"""

from __future__ import annotations

import base64
import html
import json
import os
import secrets
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest

from . import engine
from . import manifest as manifest_mod
from .browser import render_page
from .errors import ManifestError, StackgateError
from .metrics import GATE_FAILED, GATE_PASSED, METRICS, Gate, Result, aggregate, finding, gate_verdict
from .report import banner, format_utc, page_title, timeline_svg
from .stack import Stack, StackRun
from .swarm import SwarmRun, SwarmStack

REPORTS = Path(os.environ.get("STACKGATE_REPORTS") or Path.cwd() / "reports")
MARKERS = {
    "smoke": "the smoke gate (pytest -m smoke)",
    "contract": "static compose contract, routing and API conformance",
    "rollback": "the move to the rollback layout (simple stack or previous deployment) and forward again",
    "resilience": "restarts, a registry outage and a paused Ollama (release gate, not smoke)",
    "isolation": "LLM latency under a vision burst (release gate, not smoke)",
    "gpu": "needs an nvidia runtime or CDI GPU devices",
    "scale": "replicas of each Ollama on swarm (--stack-engine swarm, make scale)",
    "published_ollama": "reads an Ollama through its published host port (skipped on swarm: replicas publish none)",
    "slow": "takes more than a few seconds",
}
STACK_KEY = pytest.StashKey[dict]()
EARLY_KEY = pytest.StashKey[dict]()
RESULTS_KEY = pytest.StashKey[dict]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("stackgate")
    group.addoption("--stack-profile", choices=("airgap", "production"), default="airgap",
                    help="compose profile to start (default: airgap, no registry)")
    group.addoption("--stack-reuse", action="store_true",
                    help="test an already-running stack at the manifest's URLs; start and stop nothing")
    group.addoption("--stack-project", default=None,
                    help="compose project name (with --stack-reuse: the running project; default rma)")
    group.addoption("--keep-stack", action="store_true", help="leave the stack up after the session")
    group.addoption("--manifest", default=None, help="path to the manifest (default: stack/manifest.yaml)")
    group.addoption("--gate", default=None,
                    help="the gate to judge (manifest `gates`): its required metrics decide the exit status "
                         "(default: smoke when run as `-m smoke`, else none)")
    group.addoption("--watch-logs", type=float, default=None, metavar="SECONDS",
                    help="keep scanning the logs this long after the last check (default: the gate's watch_logs_s)")
    group.addoption("--stack-engine", choices=("compose", "swarm"), default="compose",
                    help="compose (one machine, default) or swarm: the manifest's scale-out as a `docker stack` with "
                         "replicas of each Ollama (a single-node swarm is initialised for the run and left again)")
    group.addoption("--stack-owned", action="store_true",
                    help="with --stack-reuse: the caller owns the reused stack, so the rollback may replace it")


def pytest_configure(config: pytest.Config) -> None:
    for name, text in MARKERS.items():  # the suite's markers, also where no pyproject declares them
        config.addinivalue_line("markers", f"{name}: {text}")
    config.addinivalue_line("markers", "metric(id): the success metric this test proves (see stackgate.metrics)")
    config.addinivalue_line("markers", "services(*names): services whose logs explain a failure of this test")
    config.addinivalue_line("markers", "after_all: run after every other test (e.g. the log scan)")
    config.addinivalue_line("markers", "disruptive: disturbs the running stack (e.g. pauses a store); runs late")
    try:
        m = manifest_mod.load(config.getoption("--manifest"))
    except ManifestError as exc:
        raise pytest.UsageError(str(exc)) from None
    config.stash[STACK_KEY] = {"manifest": m, "gate": selected_gate(config, m), "session_started": time.time()}
    config.stash[RESULTS_KEY] = {}


def selected_gate(config: pytest.Config, m: manifest_mod.Manifest) -> Gate | None:
    """The gate this session judges: --gate, or smoke for a plain `-m smoke` run; None for other runs."""
    name = config.getoption("--gate")
    if name is None and (config.getoption("markexpr", "") or "").strip() == "smoke" and "smoke" in m.gates:
        name = "smoke"
    if name is None:
        return None
    if name not in m.gates:
        raise pytest.UsageError(f"--gate {name}: the manifest declares no such gate ({', '.join(m.gates) or 'none'})")
    return m.gates[name]


def watch_logs_s(config: pytest.Config) -> float:
    """Seconds the log scan keeps watching after the last check: --watch-logs, else the gate's, else 0."""
    option = config.getoption("--watch-logs")
    if option is not None:
        return max(0.0, option)
    gate = config.stash[STACK_KEY]["gate"]
    return gate.watch_logs_s if gate else 0.0


def statuses(config: pytest.Config) -> list:
    """Every metric's status for this session (judged against its gate, with the manifest's optional skips)."""
    state = config.stash[STACK_KEY]
    results = {k: list(v) for k, v in config.stash[RESULTS_KEY].items()}
    reported = {r.nodeid for rs in results.values() for r in rs}
    for nodeid, metric in state.get("expected", {}).items():
        if nodeid not in reported:
            results.setdefault(metric, []).append(Result(nodeid, "not run", "never reached (-x, --maxfail, an abort)"))
    out = aggregate(results, state["gate"], state["manifest"].optional_skips)
    for m in out:  # the seed's wording: "All 13 services running", with this manifest's count
        if m.metric == "services-running":
            m.title = f"All {len(state['manifest'].services)} services running"
    return out


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Parametrize from the manifest: ollama_spec, app_spec (routes), service_spec (all), web_spec (ports),
    frontend_spec, and roundtrip_step (each step of each chain, under its round-trip's metric)."""
    m = metafunc.config.stash[STACK_KEY]["manifest"]
    sets = {"ollama_spec": [o for o in m.ollamas.values() if o.api == "ollama"],
            "openai_spec": [o for o in m.ollamas.values() if o.api == "openai"], "app_spec": m.apps(),
            "service_spec": list(m.services.values()), "frontend_spec": m.frontends(),
            "store_spec": [s for s in m.services.values() if s.kind == "store"],
            "web_spec": [s for s in m.services.values() if s.port and s.kind != "ollama"]}
    for name, values in sets.items():
        if name in metafunc.fixturenames:
            metafunc.parametrize(name, values, ids=[v.name for v in values])
    if "backend_spec" in metafunc.fixturenames:  # every LLM / vision backend, under its API's metric
        metafunc.parametrize("backend_spec", [
            pytest.param(o, id=o.name, marks=pytest.mark.metric("ollama-api" if o.api == "ollama" else "openai-api"))
            for o in m.ollamas.values()])
    if "layout" in metafunc.fixturenames:  # the layouts the manifest declares (the deployment, the rollback)
        metafunc.parametrize("layout", list(m.layouts))
    if "roundtrip_step" in metafunc.fixturenames:
        params = [pytest.param((rt.name, kind, step.id),
                               marks=[pytest.mark.metric(rt.metric), pytest.mark.services(*step_services(m, rt, step))],
                               id="-".join(x for x in (rt.name, kind, step.id) if x))
                  for rt in m.roundtrips.values() for kind in rt.chains() for step in rt.steps]
        metafunc.parametrize("roundtrip_step", params)


def step_services(m: manifest_mod.Manifest, rt, step) -> list[str]:  # noqa: ANN001
    """The services whose logs explain a failed step: the step's own, and the Ollamas it is routed to."""
    own = step.service or (rt.services[0] if rt.services else None)
    if own is None or own not in m.services:
        return []
    return [own, *dict.fromkeys(m.services[own].routes.values())]


def ollama_backends(manifest: manifest_mod.Manifest) -> dict[str, str]:
    """Each Ollama's backend from /api/version: 'stand-in (…)' or 'Ollama …' — never confused."""
    out = {}
    for name in manifest.ollamas:
        try:
            version = httpx.get(manifest.url(name) + ("/version" if manifest.ollamas[name].api == "openai" else
                                                      "/api/version"), timeout=5).json()["version"]
        except (httpx.HTTPError, ValueError, KeyError) as exc:
            out[name] = f"unknown ({type(exc).__name__})"
            continue
        if manifest.ollamas[name].api == "openai":
            out[name] = openai_backend(manifest, name)
            continue
        out[name] = f"STAND-IN (not Ollama), version {version}" if "standin" in version else f"Ollama {version}"
        serves = [what for what in (_serves(manifest, name, m) for m in manifest.ollamas[name].models) if what]
        if serves:
            out[name] += "; " + "; ".join(serves)
    return out


def openai_backend(manifest: manifest_mod.Manifest, name: str) -> str:
    """An OpenAI-compatible backend's line: vLLM's /version, or the stand-in's confession, and the names served."""
    try:
        version = httpx.get(manifest.url(name) + "/version", timeout=5).json().get("version", "?")
        ids = [m["id"] for m in httpx.get(manifest.url(name) + "/v1/models", timeout=5).json().get("data", [])]
    except (httpx.HTTPError, ValueError, KeyError) as exc:
        return f"unknown ({type(exc).__name__})"
    what = (f"STAND-IN for vLLM ({version}): {', '.join(ids)} → SmolLM2-135M-Instruct Q4_1, stand-in weights"
            if "stand-in" in version else f"vLLM {version}: {', '.join(ids)}")
    return what


def _serves(manifest: manifest_mod.Manifest, ollama: str, model: str) -> str:
    """What answers for a model name, as a stand-in's /api/show says ('llama3.2:latest → SmolLM2-135M-Instruct
    Q4_1, stand-in weights (llama.cpp)'); empty for a real Ollama, which names its own weights."""
    try:
        info = httpx.post(manifest.url(ollama) + "/api/show", json={"model": model}, timeout=5).json()
    except (httpx.HTTPError, ValueError):
        return ""
    return str((info.get("model_info") or {}).get("stackgate.serves", ""))


def stack_run(config: pytest.Config, manifest: manifest_mod.Manifest, profiles: list[str]) -> StackRun | SwarmRun:
    """The lifecycle of this session's stack: a compose project, or (--stack-engine swarm) the scaled stack."""
    if config.getoption("--stack-engine") == "swarm":
        if config.getoption("--stack-reuse"):
            raise pytest.UsageError("--stack-engine swarm deploys its own stack; a deployed one is checked with "
                                    "--stack-reuse and the compose engine (see the README: several machines)")
        return SwarmRun(manifest, profiles, keep=config.getoption("--keep-stack"),
                        project=config.getoption("--stack-project"), log=live_log(config))
    return StackRun(manifest, profiles, reuse=config.getoption("--stack-reuse"), keep=config.getoption("--keep-stack"),
                    project=config.getoption("--stack-project"), log=live_log(config))


def profiles_for(config: pytest.Config) -> list[str]:
    """The compose profiles of this session: the chosen one, plus gpu when the engine has GPUs."""
    return [config.getoption("--stack-profile"), *(["gpu"] if engine.gpu_available(engine.docker_info()) else [])]


def pytest_deselected(items: list[pytest.Item]) -> None:
    """A deselected test of a metric is missing evidence: its metric reads UNKNOWN (unless its gate ignores it)."""
    for item in items:
        metric = item.get_closest_marker("metric")
        if metric:
            item.config.stash[RESULTS_KEY].setdefault(metric.args[0], []).append(
                Result(item.nodeid, "deselected", "deselected (-m, -k or --deselect)"))


def pytest_collection_finish(session: pytest.Session) -> None:
    """Check every metric marker names a metric; remember which tests each metric expects (one that never
    reports, e.g. after -x, is missing evidence); start the stack (and a browser) in the background as soon
    as it is known that tests need it, so that `up --wait` overlaps with pytest's start and the static tests."""
    config = session.config
    expected = config.stash[STACK_KEY].setdefault("expected", {})
    for item in session.items:
        metric = item.get_closest_marker("metric")
        if metric:
            if not metric.args or metric.args[0] not in METRICS:
                raise pytest.UsageError(f"{item.nodeid}: metric({', '.join(map(repr, metric.args))}) is not a metric "
                                        f"of stackgate.metrics ({', '.join(METRICS)})")
            expected[item.nodeid] = metric.args[0]
    if config.option.collectonly:
        return
    profiles = profiles_for(config)
    if not any("stack" in getattr(i, "fixturenames", ()) and (i.get_closest_marker("gpu") is None or "gpu" in profiles)
               for i in session.items):
        return  # no test needs a stack (or only GPU tests, which skip without a GPU)
    run = stack_run(config, config.stash[STACK_KEY]["manifest"], profiles)
    pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="stackgate-early")
    future = pool.submit(run.start)
    early = {"run": run, "future": future, "profiles": profiles, "started": time.time()}
    m = config.stash[STACK_KEY]["manifest"]
    if m.frontends() and any("rendered" in getattr(i, "fixturenames", ()) for i in session.items):
        early["browser"] = browse(m, lambda: (future.result(), frontend_url(m))[1])
    pool.shutdown(wait=False)
    config.stash[EARLY_KEY] = early


@pytest.hookimpl(tryfirst=True)
def pytest_sessionfinish(session: pytest.Session) -> None:
    """Whatever happened (an interrupt included), the stack this session started goes; a gate that is not
    PASSED makes the session fail even when every test that ran passed (a skip or a missing test)."""
    config = session.config
    early = config.stash.get(EARLY_KEY, None)
    if early is not None:
        early["future"].cancel()
        # a swarm run is stopped in any case: its deploy waits for this (a ^C before `deploy` deploys nothing)
        if early["future"].done() or early["run"].stack is not None or isinstance(early["run"], SwarmRun):
            early["run"].stop()
    state = config.stash.get(STACK_KEY, None)
    if state is None or state["gate"] is None or session.exitstatus not in (0, 1, 5):
        return
    state["finished"] = time.time()
    _, verdict, problems = _verdict(config)
    state["verdict"] = (verdict, problems)
    if verdict != GATE_PASSED:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("--stack-engine") == "swarm":  # a replicated Ollama has no host port (docker-stack-scaled.yml)
        skip = pytest.mark.skip(reason="swarm: a replicated Ollama publishes no host port; each replica's health "
                                       "and models are checked through the engine (scale-out)")
        for item in items:
            if item.get_closest_marker("published_ollama"):
                item.add_marker(skip)
    # checks that disturb the stack (pausing a store) after the others; the log scan after those; then the
    # resilience tests (restarts, pauses) and the replica kill of the scale-out (its in-flight requests fail on
    # purpose); the rollback (which replaces the containers) last of all
    items.sort(key=lambda item: (item.get_closest_marker("rollback") is not None,
                                 item.get_closest_marker("resilience") is not None
                                 or (item.get_closest_marker("scale") is not None
                                     and item.get_closest_marker("disruptive") is not None),
                                 item.get_closest_marker("isolation") is not None,
                                 item.get_closest_marker("after_all") is not None,
                                 item.get_closest_marker("disruptive") is not None))


def live_log(config: pytest.Config) -> Callable[[str], None]:
    """A logger that prints on the terminal now, past pytest's output capture (progress of long waits)."""
    tr = config.pluginmanager.get_plugin("terminalreporter")
    capman = config.pluginmanager.get_plugin("capturemanager")
    lock = threading.Lock()

    def log(msg: str) -> None:
        if tr is None:
            return
        with lock:
            if capman is not None:
                with capman.global_and_fixture_disabled():
                    tr.write_line(msg)
            else:
                tr.write_line(msg)
    return log


# --- fixtures -----------------------------------------------------------------------------------

@pytest.fixture(scope="session")
def manifest(pytestconfig: pytest.Config) -> manifest_mod.Manifest:
    """The loaded manifest. Override to test against another one."""
    return pytestconfig.stash[STACK_KEY]["manifest"]


@pytest.fixture(scope="session")
def rollback_target(manifest: manifest_mod.Manifest) -> manifest_mod.RollbackTarget:
    """The layout a rollback moves to and the manifest that describes it (the simple stack, or another
    manifest's deployment); the test skips when the manifest declares none."""
    target = manifest.rollback_target()
    if target is None:
        pytest.skip("the manifest declares no rollback layout (no compose.simple and no rollback.manifest)")
    return target


@pytest.fixture(scope="session")
def gpu() -> bool | None:
    """True when the engine reports an nvidia runtime or CDI GPU devices; None when `docker info` does not answer
    (then nobody knows whether there is a GPU)."""
    info = engine.docker_info()
    return engine.gpu_available(info) if info else None


@pytest.fixture(scope="session")
def stack_profiles(pytestconfig: pytest.Config) -> list[str]:
    """Compose profiles to apply: the chosen one, plus gpu when the engine has GPUs."""
    early = pytestconfig.stash.get(EARLY_KEY, None)
    return early["profiles"] if early else profiles_for(pytestconfig)


@pytest.fixture(scope="session")
def stack_start(pytestconfig: pytest.Config, manifest, stack_profiles) -> Iterator[dict]:
    """The session's stack, started once (in the background since collection): {'stack': Stack} or
    {'error': reason}."""
    early = pytestconfig.stash.get(EARLY_KEY, None)
    run = early["run"] if early else stack_run(pytestconfig, manifest, stack_profiles)
    state: dict = {"profiles": stack_profiles}
    pytestconfig.stash[STACK_KEY]["start"] = state
    started = early["started"] if early else time.time()
    try:
        stack = early["future"].result() if early else run.start()
    except Exception as exc:  # noqa: BLE001 - any start failure is one finding, not an error in every test
        reason = str(exc) if isinstance(exc, StackgateError) else f"{type(exc).__name__}: {exc}"
        state.update(error=reason, causes=getattr(exc, "causes", {}), seconds=time.time() - started)
        state.update(start_bound(run.stack))
        run.stop()
        yield state
        return
    state.update(stack=stack, seconds=time.time() - started, **start_bound(stack))
    backends = ({o: "not read over HTTP: its swarm replicas publish no host port (the stand-in label below names "
                    "what runs)" for o in manifest.ollamas} if isinstance(stack, SwarmStack) else ollama_backends(manifest))
    state.update(backends=backends, images=stack.image_ids(), standins=stack.standins())
    try:
        yield state
    finally:
        run.stop()


def start_bound(stack: Stack | None) -> dict:
    """{'bound_s', 'first_run'} of a stack this session started (nothing for a reused one)."""
    if isinstance(stack, SwarmStack):
        return {"bound_s": stack.bound_s, "first_run": True}
    if stack is None or stack.compose is None:
        return {}
    return {"bound_s": stack.compose.wait_timeout, "first_run": stack.first_run}


@pytest.fixture(scope="session")
def stack(stack_start: dict) -> Stack:
    """The running, healthy stack; tests that need it skip when it did not start (one test fails for that)."""
    if "error" in stack_start:
        pytest.skip("the stack did not start (see test_the_stack_comes_up_healthy_within_its_bound)")
    return stack_start["stack"]


@pytest.fixture(scope="session")
def owned_stack(request: pytest.FixtureRequest, stack: Stack) -> Stack:
    """The stack, when this session may disturb or replace it: it started it, or --stack-owned says the caller
    owns the reused one."""
    if stack.reused and not request.config.getoption("--stack-owned"):
        pytest.skip("--stack-reuse: this would restart or replace services of a stack this session does not own "
                    "(--stack-owned)")
    return stack


def data_before(http: httpx.Client, manifest: manifest_mod.Manifest, run_facts: dict, suffix: str,
                metric: str, offset: int) -> dict:
    """The data of the round-trips the manifest's rollback keeps, written before a disruption (their writing
    steps); a refused write fails the test that needed it with a finding under metric."""
    from .roundtrip import write_data

    try:
        return write_data(http, manifest, run_facts, suffix, offset)
    except (httpx.HTTPError, StackgateError) as exc:
        pytest.fail(finding(metric, "stack", "data written before the disruption", str(exc)), pytrace=False)


@pytest.fixture(scope="session")
def http() -> Iterator[httpx.Client]:
    """An httpx client with bounded timeouts."""
    with httpx.Client(timeout=httpx.Timeout(120, connect=5)) as client:
        yield client


@pytest.fixture(scope="session")
def run_facts() -> dict[str, str]:
    """Facts unique to this run (so an answer can't come from an earlier run's data). Numbers are 4000 and above:
    the services' worked examples use numbers below 3000, so no answer can pass by copying an example."""
    letters = "ABCDEFGHJKMNPRSTUVWXY"  # no O/0, I/1/L, Z/2: OCR must read it back exactly
    return {"number": str(4000 + secrets.randbelow(5000)),
            "vendor": "ACME" + "".join(secrets.choice(letters) for _ in range(3))}


@pytest.fixture(scope="session")
def probe_facts(run_facts) -> dict[str, str]:
    """The facts the services' probes send: this run's, with a number no round-trip chain uses."""
    return {"number": str(int(run_facts["number"]) + 900), "vendor": run_facts["vendor"] + "RT"}


# --- evidence gathered concurrently ------------------------------------------------------------

def browse(manifest: manifest_mod.Manifest, url: str | Callable[[], str]) -> Future | None:
    """Render the manifest's (first) frontend page in the background; None when the stack has no frontend."""
    fronts = manifest.frontends()
    if not fronts:
        return None
    page = fronts[0].page
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="browser")
    future = pool.submit(render_page, url, page.get("ready", "body"), page.get("rows", ""))
    pool.shutdown(wait=False)
    return future


def frontend_url(manifest: manifest_mod.Manifest) -> str:
    """The URL of the manifest's (first) frontend page."""
    front = manifest.frontends()[0]
    return manifest.url(front.name) + front.page.get("path", "/")


@pytest.fixture(scope="session")
def evidence(request: pytest.FixtureRequest, stack, http, manifest, run_facts) -> dict:
    """Futures of the slow evidence, started together: one per round-trip chain ((roundtrip, kind) -> step id ->
    StepResult), and 'browser' (the frontend rendered, or None without a frontend)."""
    from .roundtrip import chain_values, run_chain

    pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="evidence")
    futures: dict = {}
    for index, rt in enumerate(manifest.roundtrips.values()):
        for kind in rt.chains():
            futures[(rt.name, kind)] = pool.submit(run_chain, http, manifest, rt,
                                                   chain_values(run_facts, rt, index, kind))
    early = request.config.stash.get(EARLY_KEY, None)
    futures["browser"] = (early or {}).get("browser") or (browse(manifest, frontend_url(manifest))
                                                           if manifest.frontends() else None)
    pool.shutdown(wait=False)
    return futures


@pytest.fixture(scope="session")
def chains(evidence) -> dict:
    """(roundtrip, kind) -> step id -> StepResult, once every chain has run."""
    return {key: f.result() for key, f in evidence.items() if key != "browser"}


@pytest.fixture
def rendered(evidence, extras):
    """The frontend as headless Chromium rendered it; its screenshot goes into the report."""
    if evidence["browser"] is None:
        pytest.skip("the manifest declares no frontend")
    page = evidence["browser"].result()
    if page.screenshot:
        import pytest_html

        extras.append(pytest_html.extras.png(base64.b64encode(page.screenshot).decode(), name="frontend screenshot"))
    return page


# --- report -------------------------------------------------------------------------------------

def _involved_services(item: pytest.Item, manifest: manifest_mod.Manifest) -> list[str]:
    names: list[str] = []
    for mark in item.iter_markers("services"):
        names += list(mark.args)
    callspec = getattr(item, "callspec", None)
    for value in (callspec.params.values() if callspec else []):
        name = getattr(value, "name", value)
        if isinstance(name, str) and name in manifest.services:
            names.append(name)
    return list(dict.fromkeys(names))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()
    metric = item.get_closest_marker("metric")
    if report.failed and not metric:
        item.config.stash[STACK_KEY].setdefault("unmetered", []).append(item.nodeid)
    if metric and (report.when == "call" or (report.when != "call" and report.outcome == "failed")
                   or (report.when == "setup" and report.outcome != "passed")):
        reason = ""
        if report.skipped and isinstance(report.longrepr, tuple):
            reason = report.longrepr[2].removeprefix("Skipped: ")
        elif report.failed:
            reason = str(getattr(report.longrepr, "reprcrash", None) and report.longrepr.reprcrash.message or "")
        first = reason.splitlines()[0].removeprefix("AssertionError: ") if reason else ""
        if report.failed and not first.startswith("["):  # a bare assertion still reads as a finding in the report
            names = _involved_services(item, item.config.stash[STACK_KEY]["manifest"])
            first = f"[{METRICS[metric.args[0]]}] {names[0] if names else 'stack'}: {first or 'failed'}"
        item.config.stash[RESULTS_KEY].setdefault(metric.args[0], []).append(Result(item.nodeid, report.outcome, first))
    if report.failed and report.when == "call":
        state = item.config.stash[STACK_KEY].get("start") or {}
        stack: Stack | None = state.get("stack")
        if stack is not None:
            state["failed"] = True
            names = _involved_services(item, stack.manifest)
            try:
                from pytest_html import extras
            except ImportError:  # pragma: no cover - pytest-html is a dependency
                return
            attached = getattr(report, "extras", [])
            for name in names:
                try:
                    text = "\n".join(stack.logs(name, tail=200))
                except Exception as exc:  # noqa: BLE001 - logs are evidence, not a second failure
                    text = f"(could not read logs: {exc})"
                attached.append(extras.text(text, name=f"logs: {name}"))
            report.extras = attached


def _metrics_html(config: pytest.Config) -> str:
    rows = []
    colours = {"PASS": "#16794c", "FAIL": "#b42318", "UNKNOWN": "#8a6d00", "SKIPPED": "#555"}
    for m in statuses(config):
        colour = colours.get(m.status, "#777")
        tests = "".join(f"<li><a href='#{html.escape(quote(r.nodeid, safe=''))}'>{html.escape(r.nodeid)}</a>: "
                        f"{r.outcome}</li>" for r in m.results)
        detail = f"<details><summary>{len(m.results)} test(s)</summary><ul>{tests}</ul></details>" if tests else "no test ran"
        why = html.escape(m.why) + (f"<br><small>{html.escape(m.reason)}</small>" if m.reason else "")
        rows.append(f"<tr><td style='color:#1f2328'>{html.escape(m.title)}</td>"
                    f"<td style='color:{colour};font-weight:bold'>{html.escape(m.status)}</td>"
                    f"<td style='color:#1f2328'>{detail}</td><td style='color:#1f2328'>{why}</td></tr>")
    return ("<h2>Success metrics</h2><table class='stackgate-metrics' border='1' cellpadding='4' "
            "style='border-collapse:collapse'><tr><th>Metric</th><th>Status</th><th>Evidence</th><th>Why</th></tr>"
            + "".join(rows) + "</table>")


def stack_commit(stack_dir: Path) -> str:
    """The git commit of the stack's files, '(modified)' when they differ from it, or why it is unknown."""
    import subprocess

    try:
        head = subprocess.run(["git", "-C", str(stack_dir), "log", "-1", "--format=%h", "--", "."],
                              capture_output=True, text=True, timeout=10)
        dirty = subprocess.run(["git", "-C", str(stack_dir), "status", "--porcelain", "--", "."],
                               capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"unknown ({type(exc).__name__})"
    if head.returncode != 0 or not head.stdout.strip():
        return "not a git checkout"
    return head.stdout.strip() + (" (modified)" if dirty.stdout.strip() else " (clean)")


def _tested(config: pytest.Config) -> list[tuple[str, str]]:
    """What was tested, for the banner: the stack's commit, profile, backends, GPU, layout timings."""
    state = config.stash[STACK_KEY]
    m: manifest_mod.Manifest = state["manifest"]
    start = state.get("start") or {}
    stack: Stack | None = start.get("stack")
    rows = [("stack/ commit", stack_commit(m.project_dir)), ("Manifest", str(m.path)),
            ("Profile", "+".join(start.get("profiles", [])) or "(no stack started)")]
    if "bound_s" in start:
        rows.append(("Start-up bound", f"{start['bound_s']:.0f} s, the manifest's "
                     + ("first-run budget (the model volumes were empty)" if start.get("first_run")
                        else "later-start budget (the model volumes already existed)")))
    if "error" in start:
        rows.append(("Stack start", "FAILED: " + start["error"].splitlines()[0][:200]))
    if isinstance(stack, SwarmStack):
        m_scale = m.scale
        rows.append(("Engine", f"Docker Swarm, stack {stack.project} ({stack.rendered}); replicas "
                     + ", ".join(f"{o} {n}" for o, n in m_scale.replicas.items())))
        rows.append(("Compose keys swarm does not take (dropped)",
                     "; ".join(f"{s}: {', '.join(k)}" for s, k in sorted(stack.dropped.items())) or "none"))
    if stack is not None:
        rows.append(("Compose project", stack.project + (" (reused)" if stack.reused else "")))
        rows.append(("Healthy after", "n/a: reused, started outside this session" if stack.reused
                     else f"{(stack.ready_at or time.time()) - stack.started_at:.1f} s"))
        for name in m.ollamas:
            rows.append((f"{name} backend", start.get("backends", {}).get(name, "not read")))
        standins = start.get("standins") or {}
        rows.append(("Stand-ins (not the real servers)",
                     ", ".join(f"{svc} (for {what})" for svc, what in standins.items()) or "none: every backend is real"))
        rows.append(("GPU", "yes" if "gpu" in start.get("profiles", []) else "no (no nvidia runtime or CDI devices)"))
    windows = state.get("log_windows")
    if windows:
        spans = sorted({round(end - begin) for begin, end in windows.values()})
        rows.append(("Logs watched", f"{spans[0]}-{spans[-1]} s per service, from healthy to "
                                     f"{format_utc(max(e for _, e in windows.values()))} (table below)"))
    rollback = state.get("rollback")
    if rollback is not None:
        rows.append(("Rollback steps", "; ".join(f"{st.name}: {st.seconds:.1f} s{'' if st.ok else ' FAILED'}"
                                                 for st in rollback.steps)))
    return rows


def _verdict(config: pytest.Config) -> tuple[str, str, list[str]]:
    """(gate name, PASSED / FAILED / INCOMPLETE, problems); a failed test outside every metric fails a gate too.
    A session without a gate reads INFORMATIVE: its metrics are shown, nothing is judged."""
    state = config.stash[STACK_KEY]
    gate = state["gate"]
    if gate is None:
        return "no", "INFORMATIVE", []
    verdict, problems = gate_verdict(statuses(config))
    unmetered = sorted(set(state.get("unmetered", [])))
    if unmetered:
        verdict = GATE_FAILED
        problems.append(f"{len(unmetered)} test(s) outside the metrics failed: {', '.join(unmetered[:5])}")
    return gate.name, verdict, problems


def _timeline_html(config: pytest.Config) -> str:
    state = config.stash[STACK_KEY].get("start") or {}
    stack: Stack | None = state.get("stack")
    if stack is None or stack.reused:
        return ""
    first = bool(stack.first_run)
    rows = [(n, stack.healthy_after_s.get(n), stack.manifest.expected_healthy_s(n, first)) for n in stack.manifest.services]
    note = ("expected: the seed's first-run timeline (the model volumes were empty before `up`, so every model was "
            "pulled)" if first else "expected: the seed's later-start timeline (the model volumes already held models)")
    images = state.get("images", {})
    table = "".join(f"<tr><td>{html.escape(n)}</td><td>{html.escape(images.get(n, ''))}</td></tr>" for n in images)
    return (timeline_svg(rows, "Start-up timeline: seconds from `up` to healthy", note)
            + "<details><summary>Images</summary><table border='1' cellpadding='4' style='border-collapse:collapse'>"
            + table + "</table></details>")


def _log_windows_html(config: pytest.Config) -> str:
    windows = config.stash[STACK_KEY].get("log_windows") or {}
    if not windows:
        return ""
    rows = "".join(f"<tr><td>{html.escape(n)}</td><td>{format_utc(b)}</td><td>{format_utc(e)}</td>"
                   f"<td>{e - b:.0f}</td></tr>" for n, (b, e) in windows.items())
    return ("<details><summary>Log windows scanned for errors</summary><table border='1' cellpadding='4' "
            "style='border-collapse:collapse'><tr><th>Service</th><th>From (healthy)</th><th>To</th><th>Seconds</th>"
            "</tr>" + rows + "</table></details>")


_HTML_REPORT: list = []  # pytest-html's report data, kept from the title hook (called at session start)


def _table(title: str, head: list[str], rows: list[list[str]], note: str = "") -> str:
    """A small titled HTML table (cells escaped)."""
    if not rows:
        return ""
    body = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in r) + "</tr>" for r in rows)
    return (f"<h2>{html.escape(title)}</h2>" + (f"<p>{html.escape(note)}</p>" if note else "")
            + "<table border='1' cellpadding='4' style='border-collapse:collapse'><tr>"
            + "".join(f"<th>{html.escape(h)}</th>" for h in head) + "</tr>" + body + "</table>")


def _recoveries_html(config: pytest.Config) -> str:
    rows = [[what, svc, "did not recover" if s is None else f"{s:.1f}", detail]
            for what, svc, s, detail in config.stash[STACK_KEY].get("recoveries", [])]
    return _table("Recovery times", ["Disruption", "Service", "Seconds until its dependents worked", "Detail"], rows)


def _isolation_html(config: pytest.Config) -> str:
    runs = config.stash[STACK_KEY].get("isolation") or []
    if not runs:
        return ""
    from .report import latency_bars_svg

    rows = [[r["layout"], r["service"], f"{r['idle']['p50_s']:.2f}", f"{r['idle']['p95_s']:.2f}",
             f"{r['loaded']['p50_s']:.2f}", f"{r['loaded']['p95_s']:.2f}", f"{r['bound_s']:.2f}",
             f"{r['burst']['ok']} of {r['burst']['sent']}"] for r in runs]
    groups = [(r["layout"], {"idle p50": r["idle"]["p50_s"], "idle p95": r["idle"]["p95_s"],
                             "loaded p50": r["loaded"]["p50_s"], "loaded p95": r["loaded"]["p95_s"]}) for r in runs]
    chart = latency_bars_svg(groups, "LLM latency, idle and under the vision burst (s)",
                             {r["layout"]: r["bound_s"] for r in runs})
    return _table("Isolation: LLM latency under a vision burst",
                  ["Layout", "Timed service", "Idle p50 s", "Idle p95 s", "Loaded p50 s", "Loaded p95 s", "Bound s",
                   "Burst requests served"], rows, runs[0]["rule"]) + chart


def _scale_html(config: pytest.Config) -> str:
    """The scale-out section: work each replica served in a burst, and what losing a replica cost."""
    found = config.stash[STACK_KEY].get("scale") or {}
    if not found.get("bursts") and not found.get("losses"):
        return ""
    rows = [[b["ollama"], b["via"], f"{b['ok']} of {b['sent']}", f"{b['seconds']:.1f}",
             ", ".join(f"replica {s}: {n}" for s, n in sorted(b["per_replica"].items())) or "none seen"]
            for b in found.get("bursts", [])]
    out = _table("Scale-out: work requests each replica served in a burst", ["Ollama", "Burst through",
                 "Answered", "Seconds", "Work requests per replica (its access log)"], rows,
                 "Each replica's own [GIN] access log, counted from the burst's start; the services reach the Ollama "
                 "by its service name (DNS round-robin over the replicas).")
    rows = [[x["ollama"], str(x["slot"]), x["via"], f"{x['failed']} of {x['sent']}",
             "did not recover" if x["recovered_s"] is None else f"{x['recovered_s']:.1f}",
             "; ".join(x["failures"]) or "-"] for x in found.get("losses", [])]
    return out + _table("Scale-out: one replica killed during a burst", ["Ollama", "Replica killed", "Burst through",
                        "Failed requests", "Seconds until every replica was healthy again", "Failures"], rows)


def _security_html(config: pytest.Config) -> str:
    found = config.stash[STACK_KEY].get("security_findings") or {}
    rows = [[rule, sev, str(len(where)), ", ".join(sorted(where))[:300], why]
            for (rule, sev, why), where in sorted(found.items())]
    return _table("Security findings (compose-lint over the production files)",
                  ["Rule", "Severity", "Count", "Where", "Suppressed because (OPEN: not suppressed)"], rows)


def pytest_html_report_title(report) -> None:  # noqa: ANN001 - pytest-html's report data object
    """Keep the report object: its title names the gate and verdict, known only at the session's end."""
    _HTML_REPORT[:] = [report]
    report.title = "stackgate"


def pytest_html_results_summary(prefix: list, summary: list, postfix: list, session: pytest.Session) -> None:
    config = session.config
    state = config.stash[STACK_KEY]
    gate, verdict, problems = _verdict(config)
    for report in _HTML_REPORT:  # the title names the gate; pytest's Python/Platform/Packages block goes away
        report.title = page_title(gate, verdict)
        report.set_data("environment", {})
    started = state["session_started"]
    standins = (state.get("start") or {}).get("standins") or {}
    caveat = ("on stand-in backends: " + ", ".join(sorted(standins))) if standins else ""
    prefix.append(banner(gate, verdict, problems, _tested(config), started, state.get("finished", time.time()) - started,
                         caveat))
    prefix.append(_metrics_html(config))
    prefix.append(_timeline_html(config))
    prefix.append(_log_windows_html(config))
    prefix.append(_recoveries_html(config))
    prefix.append(_isolation_html(config))
    prefix.append(_scale_html(config))
    prefix.append(_security_html(config))


def pytest_terminal_summary(terminalreporter, exitstatus: int, config: pytest.Config) -> None:  # noqa: ANN001
    all_statuses = statuses(config)
    if not any(m.results for m in all_statuses):
        return
    gate, verdict, problems = _verdict(config)
    terminalreporter.section(f"success metrics ({gate} gate)")
    for m in all_statuses:
        terminalreporter.write_line(f"{m.status:<17} {m.title}  ({m.why})")
    if config.stash[STACK_KEY]["gate"] is not None:
        terminalreporter.write_line("")
        standins = (config.stash[STACK_KEY].get("start") or {}).get("standins") or {}
        caveat = f" (on stand-in backends: {', '.join(sorted(standins))})" if standins else ""
        terminalreporter.write_line(f"GATE {verdict}{caveat}" + (": " + "; ".join(problems) if problems else ""),
                                    bold=True, red=verdict != GATE_PASSED, green=verdict == GATE_PASSED)
    REPORTS.mkdir(exist_ok=True)
    (REPORTS / "metrics.json").write_text(json.dumps({
        "gate": gate, "verdict": verdict, "problems": problems,
        "metrics": [{"metric": m.metric, "title": m.title, "status": m.status, "why": m.why, "required": m.required,
                     "tests": [r.__dict__ for r in m.results]} for m in all_statuses]}, indent=2))
