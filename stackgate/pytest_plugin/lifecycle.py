"""The session's stack: chosen engine and profiles, started in the background at collection's end, handed to the
tests as the `stack` fixtures, and always stopped at the session's end (an interrupt included)."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from stackgate.core.errors import StackgateError
from stackgate.engines.base import Run, Stack
from stackgate.engines.compose import StackRun
from stackgate.engines.swarm import SwarmRun
from stackgate.evidence.backends import ollama_backends
from stackgate.evidence.browser import browse, frontend_url
from stackgate.machine import dockerd
from stackgate.manifest import Manifest

from .live import live_log
from .state import EarlyStart, StartRecord, state_of


def profiles_for(config: pytest.Config) -> list[str]:
    """The compose profiles of this session: the chosen one, plus gpu when the engine has GPUs."""
    return [config.getoption("--stack-profile"), *(["gpu"] if dockerd.gpu_available(dockerd.docker_info()) else [])]


def stack_run(config: pytest.Config, manifest: Manifest, profiles: list[str]) -> Run:
    """The lifecycle of this session's stack: a compose project, or (--stack-engine swarm) the scaled stack."""
    if config.getoption("--stack-engine") == "swarm":
        if config.getoption("--stack-reuse"):
            raise pytest.UsageError("--stack-engine swarm deploys its own stack; a deployed one is checked with "
                                    "--stack-reuse and the compose engine (see the README: several machines)")
        return SwarmRun(manifest, profiles, keep=config.getoption("--keep-stack"),
                        project=config.getoption("--stack-project"), log=live_log(config))
    return StackRun(manifest, profiles, reuse=config.getoption("--stack-reuse"), keep=config.getoption("--keep-stack"),
                    project=config.getoption("--stack-project"), log=live_log(config))


def start_early(session: pytest.Session) -> None:
    """Start the stack (and a browser) in the background as soon as it is known that tests need it, so that the
    start overlaps with pytest's own start and the static tests."""
    config = session.config
    state = state_of(config)
    profiles = profiles_for(config)
    if not any("stack" in getattr(i, "fixturenames", ()) and (i.get_closest_marker("gpu") is None or "gpu" in profiles)
               for i in session.items):
        return  # no test needs a stack (or only GPU tests, which skip without a GPU)
    run = stack_run(config, state.manifest, profiles)
    from concurrent.futures import ThreadPoolExecutor

    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="stackgate-early")
    early = EarlyStart(run, pool.submit(run.start), profiles)
    early.future.add_done_callback(lambda _f: state.span("stack: up --wait (all healthy)", early.started))
    pool.shutdown(wait=False)
    m = state.manifest
    if m.frontends() and any("rendered" in getattr(i, "fixturenames", ()) for i in session.items):
        early.browser = browse(m, lambda: (early.future.result(), frontend_url(m))[1])
        early.browser.add_done_callback(lambda _f: state.span("browser: frontend rendered", early.started))
    state.early = early


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_sessionfinish(session: pytest.Session):  # noqa: ANN201 - a hook wrapper (a generator)
    """Whatever happened (an interrupt included), the stack this session started goes first, before the verdict,
    the history and the report (which read nothing from the stack), so that a failure in those cannot leave it
    running."""
    state = state_of(session.config)
    try:
        if state.early is not None:
            state.early.future.cancel()
            state.early.run.stop()
    finally:
        return (yield)  # noqa: B012 - the other impls run whatever the stop did


@pytest.fixture(scope="session")
def stack_profiles(pytestconfig: pytest.Config) -> list[str]:
    """Compose profiles to apply: the chosen one, plus gpu when the engine has GPUs (as started at collection)."""
    early = state_of(pytestconfig).early
    return early.profiles if early else profiles_for(pytestconfig)


@pytest.fixture(scope="session")
def stack_start(pytestconfig: pytest.Config, manifest: Manifest, stack_profiles: list[str]) -> Iterator[StartRecord]:
    """The session's stack, started once (in the background since collection): its StartRecord, with the stack or
    the error."""
    state = state_of(pytestconfig)
    early = state.early
    run = early.run if early else stack_run(pytestconfig, manifest, stack_profiles)
    record = state.start = StartRecord(profiles=stack_profiles)
    started = early.started if early else time.time()
    try:
        stack = early.future.result() if early else run.start()
    except Exception as exc:  # noqa: BLE001 - any start failure is one finding, not an error in every test
        record.error = str(exc) if isinstance(exc, StackgateError) else f"{type(exc).__name__}: {exc}"
        record.causes, record.seconds = getattr(exc, "causes", {}), time.time() - started
        if run.stack is not None:
            record.bound_s, record.first_run = run.stack.bound_s, run.stack.first_run
        run.stop()
        yield record
        return
    record.stack, record.seconds = stack, time.time() - started
    if not stack.reused:
        try:
            record.own_start_s = stack.own_start_s()  # while the containers (and their depends_on labels) exist
        except Exception:  # noqa: BLE001 - a figure for the history, never a reason to fail the start
            record.own_start_s = {}
    record.bound_s, record.first_run = stack.bound_s, stack.first_run
    record.backends = ollama_backends(manifest) if stack.publishes_ollamas else {
        o: "not read over HTTP: its swarm replicas publish no host port (the stand-in label below names what runs)"
        for o in manifest.ollamas}
    record.images, record.standins = stack.image_ids(), stack.standins()
    try:
        yield record
    finally:
        run.stop()


@pytest.fixture(scope="session")
def stack(stack_start: StartRecord) -> Stack:
    """The running, healthy stack; tests that need it skip when it did not start (one test fails for that)."""
    if stack_start.stack is None:
        pytest.skip("the stack did not start (see test_the_stack_comes_up_healthy_within_its_bound)")
    return stack_start.stack


@pytest.fixture(scope="session")
def owned_stack(request: pytest.FixtureRequest, stack: Stack) -> Stack:
    """The stack, when this session may disturb or replace it: it started it, or --stack-owned says the caller
    owns the reused one."""
    if stack.reused and not request.config.getoption("--stack-owned"):
        pytest.skip("--stack-reuse: this would restart or replace services of a stack this session does not own "
                    "(--stack-owned)")
    return stack
