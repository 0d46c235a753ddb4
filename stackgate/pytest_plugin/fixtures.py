"""The plugin's small fixtures (pytest-docker style: each one overridable on its own): the manifest, the
rollback target, the GPU, an HTTP client, this run's facts, and the suite's ways into the session (the state,
the live log, the log watch, data written before a disruption)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from functools import partial

import httpx
import pytest

from stackgate import manifest as manifest_mod
from stackgate.core import http as http_mod
from stackgate.core.errors import StackgateError
from stackgate.core.metrics import finding
from stackgate.evidence.disruptions import disrupting
from stackgate.evidence.roundtrip import write_data
from stackgate.machine import dockerd
from stackgate.manifest import Manifest, RollbackTarget

from .live import live_log
from .options import watch_logs_s
from .state import SessionState, state_of


@pytest.fixture(scope="session")
def manifest(pytestconfig: pytest.Config) -> Manifest:
    """The manifest loaded at configure (--manifest). Parametrization and the stack's start read the same one, so
    overriding this fixture changes what tests compare against, not which stack runs: use --manifest for that."""
    return state_of(pytestconfig).manifest


@pytest.fixture(scope="session")
def rollback_target(manifest: Manifest) -> RollbackTarget:
    """The layout a rollback moves to and the manifest that describes it (the simple stack, or another
    manifest's deployment); the test skips when the manifest declares none."""
    target = manifest_mod.rollback_target(manifest)
    if target is None:
        pytest.skip("the manifest declares no rollback layout (no compose.simple and no rollback.manifest)")
    return target


@pytest.fixture(scope="session")
def gpu() -> bool | None:
    """True when the engine reports an nvidia runtime or CDI GPU devices; None when `docker info` does not answer
    (then nobody knows whether there is a GPU)."""
    info = dockerd.docker_info()
    return dockerd.gpu_available(info) if info else None


@pytest.fixture(scope="session")
def http() -> Iterator[httpx.Client]:
    """An httpx client with the gate's bounded timeouts. Override to send through another client."""
    with http_mod.client() as client:
        yield client


@pytest.fixture(scope="session")
def run_facts(pytestconfig: pytest.Config) -> dict[str, str]:
    """Facts unique to this run (so an answer can't come from an earlier run's data), in the phrasing the run drew
    (the report prints its seed; --facts-seed replays it). Numbers are 4000 and above: the services' worked
    examples use numbers below 4000, so no answer can pass by copying an example."""
    return state_of(pytestconfig).facts.values()


@pytest.fixture(scope="session")
def probe_facts(run_facts: dict[str, str]) -> dict[str, str]:
    """The facts the services' probes send: this run's, with a number no round-trip chain uses."""
    return {"number": str(int(run_facts["number"]) + 900), "vendor": run_facts["vendor"] + "RT"}


@pytest.fixture(scope="session")
def gate_state(pytestconfig: pytest.Config) -> SessionState:
    """The session's typed state, where a test leaves what the report shows (log windows, recoveries, isolation,
    scale-out, security findings, the rollback)."""
    return state_of(pytestconfig)


@pytest.fixture(scope="session")
def disruption(gate_state: SessionState) -> Callable[..., AbstractContextManager]:
    """`with disruption(kind, target):` around a disruption and the wait until things work again: its window is
    kept, and the logs written in it are judged against the manifest's `logs.during` (evidence.disruptions)."""
    return partial(disrupting, gate_state.disruptions)


@pytest.fixture(scope="session")
def progress(pytestconfig: pytest.Config) -> Callable[[str], None]:
    """A logger that prints on the terminal now, past pytest's capture (for long waits)."""
    return live_log(pytestconfig)


@pytest.fixture(scope="session")
def log_watch_s(pytestconfig: pytest.Config) -> float:
    """Seconds the log scan keeps watching after the last check: --watch-logs, else the gate's, else 0."""
    return watch_logs_s(pytestconfig)


@pytest.fixture(scope="session")
def data_writer(http: httpx.Client, manifest: Manifest,
                run_facts: dict[str, str]) -> Callable[[str, str, int], dict]:
    """write(suffix, metric, offset): the data of the round-trips the manifest's rollback keeps, written before a
    disruption (their writing steps); a refused write fails the test that needed it with a finding under metric."""
    def write(suffix: str, metric: str, offset: int) -> dict:
        try:
            return write_data(http, manifest, run_facts, suffix, offset)
        except (httpx.HTTPError, StackgateError) as exc:
            pytest.fail(finding(metric, "stack", "data written before the disruption", str(exc)), pytrace=False)
    return write
