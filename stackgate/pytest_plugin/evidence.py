"""The slow evidence, gathered concurrently: every round-trip chain and the rendered frontend, started together
the first time a test needs one of them."""

from __future__ import annotations

import time
from concurrent.futures import Future, ThreadPoolExecutor

import httpx
import pytest

from stackgate.engines.base import Stack
from stackgate.evidence.browser import RenderedPage, browse
from stackgate.evidence.roundtrip import chain_values, run_chain
from stackgate.manifest import Manifest

from .state import state_of


@pytest.fixture(scope="session")
def evidence(request: pytest.FixtureRequest, stack: Stack, http: httpx.Client, manifest: Manifest,
             run_facts: dict[str, str]) -> dict:
    """Futures of the slow evidence, started together: one per round-trip chain ((roundtrip, kind) -> step id ->
    StepResult), and 'browser' (the frontend rendered, or None without a frontend)."""
    pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="evidence")
    state = state_of(request.config)
    started = state.evidence_started = time.time()  # routing reads the chains' traffic from here on
    futures: dict = {}
    for index, rt in enumerate(manifest.roundtrips.values()):
        for kind in rt.chains():
            futures[(rt.name, kind)] = pool.submit(run_chain, http, manifest, rt,
                                                   chain_values(run_facts, rt, index, kind,
                                                                phrasing=manifest.phrasing(run_facts.get("phrasing"))))
            futures[(rt.name, kind)].add_done_callback(
                lambda _f, name=f"chain: {rt.name}{'/' + kind if kind else ''}": state.span(name, started))
    early = state_of(request.config).early
    futures["browser"] = (early.browser if early else None) or browse(manifest)
    pool.shutdown(wait=False)
    return futures


EVIDENCE_USERS = ("evidence", "chains", "rendered", "roundtrip_step")
STARTED = pytest.StashKey[bool]()


@pytest.fixture(autouse=True)
def slow_evidence_starts_with_the_stack(request: pytest.FixtureRequest) -> None:
    """The first test that needs the running stack also starts the slow evidence (every round-trip chain and the
    browser), when a later test reads it: the chains' LLM work then overlaps the checks that run before that test,
    instead of waiting for it."""
    config = request.config
    if config.stash.get(STARTED, False) or "stack" not in request.fixturenames:
        return
    config.stash[STARTED] = True
    if not any(name in getattr(item, "fixturenames", ()) for item in request.session.items for name in EVIDENCE_USERS):
        return
    if request.getfixturevalue("stack_start").stack is not None:  # a stack that did not start has no evidence
        request.getfixturevalue("evidence")


@pytest.fixture(scope="session")
def chains(request: pytest.FixtureRequest, evidence: dict) -> dict:
    """(roundtrip, kind) -> step id -> StepResult, once every chain has run (each step's latency is kept for the
    history)."""
    out = {key: f.result() for key, f in evidence.items() if key != "browser"}
    state = state_of(request.config)
    for (rt, kind), steps in out.items():
        for step_id, result in steps.items():
            if result.seconds is not None:
                state.steps[f"{rt}/{kind}/{step_id}"] = (result.seconds, result.service)
    return out


@pytest.fixture
def rendered(evidence: dict, extras: list) -> RenderedPage:
    """The frontend as headless Chromium rendered it; its screenshot goes into the report."""
    future: Future | None = evidence["browser"]
    if future is None:
        pytest.skip("the manifest declares no frontend")
    page = future.result()
    if page.screenshot:
        import base64

        import pytest_html

        extras.append(pytest_html.extras.png(base64.b64encode(page.screenshot).decode(), name="frontend screenshot"))
    return page
