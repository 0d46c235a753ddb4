"""Collection: parametrization from the manifest, each test's metric checked and expected, deselected tests as
missing evidence, the order of disruptive tests, and the stack's start in the background at collection's end."""

from __future__ import annotations

import pytest

from stackgate.core.metrics import METRICS
from stackgate.manifest import Manifest, Roundtrip, Step
from stackgate.verdict.metrics import Result

from .lifecycle import start_early
from .state import state_of


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Parametrize from the manifest: ollama_spec, openai_spec, app_spec (routes), service_spec (all), store_spec,
    web_spec (ports), frontend_spec, backend_spec (under its API's metric), required_model (Ollama, model), layout,
    and roundtrip_step (each step of
    each chain, under its round-trip's metric)."""
    m = state_of(metafunc.config).manifest
    sets = {"ollama_spec": [o for o in m.ollamas.values() if o.api == "ollama"],
            "openai_spec": [o for o in m.ollamas.values() if o.api == "openai"], "app_spec": m.apps(),
            "service_spec": list(m.services.values()), "frontend_spec": m.frontends(),
            "store_spec": [s for s in m.services.values() if s.kind == "store"],
            "web_spec": [s for s in m.services.values() if s.port and s.kind != "ollama"]}
    for name, values in sets.items():
        if name in metafunc.fixturenames:
            metafunc.parametrize(name, values, ids=[v.name for v in values])
    if "backend_spec" in metafunc.fixturenames:
        metafunc.parametrize("backend_spec", [
            pytest.param(o, id=o.name, marks=pytest.mark.metric("ollama-api" if o.api == "ollama" else "openai-api"))
            for o in m.ollamas.values()])
    if "required_model" in metafunc.fixturenames:  # each model an Ollama (API ollama) must hold
        pairs = [(o, model) for o in sets["ollama_spec"] for model in o.models]
        metafunc.parametrize("required_model", pairs, ids=[f"{o.name}-{model}" for o, model in pairs])
    if "layout" in metafunc.fixturenames:  # the layouts the manifest declares (the deployment, the rollback)
        metafunc.parametrize("layout", list(m.layouts))
    if "roundtrip_step" in metafunc.fixturenames:
        params = [pytest.param((rt.name, kind, step.id),
                               marks=[pytest.mark.metric(rt.metric), pytest.mark.services(*step_services(m, rt, step))],
                               id="-".join(x for x in (rt.name, kind, step.id) if x))
                  for rt in m.roundtrips.values() for kind in rt.chains() for step in rt.steps]
        metafunc.parametrize("roundtrip_step", params)


def step_services(m: Manifest, rt: Roundtrip, step: Step) -> list[str]:
    """The services whose logs explain a failed step: the step's own, and the Ollamas it is routed to."""
    own = step.service or (rt.services[0] if rt.services else None)
    if own is None or own not in m.services:
        return []
    return [own, *dict.fromkeys(m.services[own].routes.values())]


SUITES = ("smoke", "contract", "resilience", "isolation", "rollback", "scale")  # the markers that name a suite
DESELECTED = pytest.StashKey[list]()


def pytest_deselected(items: list[pytest.Item]) -> None:
    """Deselected tests are judged once collection is final (pytest_collection_finish)."""
    for item in items:
        item.config.stash.setdefault(DESELECTED, []).append(item)


def suites_of(item: pytest.Item) -> set[str]:
    return {name for name in SUITES if item.get_closest_marker(name) is not None}


def record_deselected(session: pytest.Session) -> None:
    """A deselected test of a metric is missing evidence (its metric reads UNKNOWN unless its gate ignores it) when
    a suite it belongs to was run: `-m smoke -k notes` leaves smoke evidence out; `-m smoke` leaves out the release
    suites' tests (resilience, isolation, ...), which are not the smoke gate's evidence."""
    ran = {name for item in session.items for name in suites_of(item)}
    for item in session.config.stash.get(DESELECTED, []):
        metric = item.get_closest_marker("metric")
        if metric and (suites_of(item) & ran or not suites_of(item)):
            state_of(item.config).record(metric.args[0], Result(item.nodeid, "deselected",
                                                                "deselected (-m, -k or --deselect)"))


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Skip what the engine cannot show (swarm: published Ollama ports); order the tests: those that disturb the
    stack (pausing a store) after the others, the log scan after those, then isolation, then the resilience tests
    and the replica kill (their in-flight requests fail on purpose), the rollback (which replaces the containers)
    last of all."""
    if config.getoption("--stack-engine") == "swarm":
        skip = pytest.mark.skip(reason="swarm: a replicated Ollama publishes no host port; each replica's health "
                                       "and models are checked through the engine (scale-out)")
        for item in items:
            if item.get_closest_marker("published_ollama"):
                item.add_marker(skip)
    items.sort(key=lambda item: (item.get_closest_marker("rollback") is not None,
                                 item.get_closest_marker("resilience") is not None
                                 or (item.get_closest_marker("scale") is not None
                                     and item.get_closest_marker("disruptive") is not None),
                                 item.get_closest_marker("isolation") is not None,
                                 item.get_closest_marker("after_all") is not None,
                                 item.get_closest_marker("disruptive") is not None,
                                 item.get_closest_marker("after_disruptions") is not None))


def pytest_collection_finish(session: pytest.Session) -> None:
    """Check every metric marker names a metric; remember which tests each metric expects (one that never
    reports, e.g. after -x, is missing evidence); then start the stack in the background."""
    state = state_of(session.config)
    record_deselected(session)
    for item in session.items:
        metric = item.get_closest_marker("metric")
        if metric:
            if not metric.args or metric.args[0] not in METRICS:
                raise pytest.UsageError(f"{item.nodeid}: metric({', '.join(map(repr, metric.args))}) is not a metric "
                                        f"of stackgate.core.metrics ({', '.join(METRICS)})")
            state.expected[item.nodeid] = metric.args[0]
    if not session.config.option.collectonly:
        start_early(session)
