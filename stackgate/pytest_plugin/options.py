"""The plugin's command-line options and markers, and the session state made from them (the manifest, the gate)."""

from __future__ import annotations

import pytest

from stackgate import manifest as manifest_mod
from stackgate.core.errors import ManifestError
from stackgate.evidence.facts import draw
from stackgate.manifest import Gate

from .state import STATE, SessionState, state_of

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
    "metric(id)": "the success metric this test proves (see stackgate.core.metrics)",
    "services(*names)": "services whose logs explain a failure of this test",
    "after_all": "run after every other test (e.g. the log scan)",
    "disruptive": "disturbs the running stack (e.g. pauses a store); runs late",
    "after_disruptions": "runs after the disruptions of its suite (the scan of the logs written during them)",
}


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
    group.addoption("--history", default=None, metavar="DIR",
                    help="where every gate run appends its record (default: reports/history)")
    group.addoption("--baseline", default=None, metavar="last|PATH|COMMIT",
                    help="what this run is compared with: the last kept runs of the same gate, manifest and profile "
                         "(default), one record file, or the runs on a stack commit")
    group.addoption("--facts-seed", type=int, default=None, metavar="N",
                    help="draw this run's facts (phrasing, number, vendor) from seed N: the report prints each run's "
                         "seed, so a run can be replayed with the same facts")
    group.addoption("--stack-owned", action="store_true",
                    help="with --stack-reuse: the caller owns the reused stack, so the rollback may replace it")


def pytest_configure(config: pytest.Config) -> None:
    """Declare the markers (also where no pyproject does), load the manifest (a bad one is a usage error, one
    line) and make the session state."""
    for name, text in MARKERS.items():
        config.addinivalue_line("markers", f"{name}: {text}")
    try:
        m = manifest_mod.load(config.getoption("--manifest"))
    except ManifestError as exc:
        raise pytest.UsageError(str(exc)) from None
    config.stash[STATE] = SessionState(manifest=m, gate=selected_gate(config, m),
                                       facts=draw(m, config.getoption("--facts-seed")))


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
    gate = state_of(config).gate
    return gate.watch_logs_s if gate else 0.0
