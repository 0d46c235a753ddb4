"""The manifest's measurement sections as plain data: `isolation` (LLM latency under a vision burst), `scale`
(the swarm scale-out) and `history` (the baseline and the bounds of a regression). Their defaults live here once;
the loader passes only what a manifest sets."""

from __future__ import annotations

from dataclasses import dataclass, field

from .requests import Request


@dataclass(frozen=True)
class Isolation:
    """The manifest's `isolation`: what is timed, what loads the stack, and the bound."""

    timed: tuple[Request, ...]  # the LLM request (the last is timed; earlier ones prepare it once)
    load: tuple[Request, ...]  # the vision burst: each worker sends these in turn, until the timing ends
    samples: int = 12
    workers: int = 2
    ratio: float = 1.5  # loaded p95 <= ratio × idle p95 + slack_s
    slack_s: float = 0.5
    metric: str = "isolation"

    def bound_s(self, idle_p95: float) -> float:
        return self.ratio * idle_p95 + self.slack_s

    def describe_bound(self) -> str:
        return f"loaded p95 ≤ {self.ratio:g} × idle p95 + {self.slack_s:g} s"


@dataclass(frozen=True)
class Scale:
    """The scaled deployment: its swarm override, replicas per Ollama, the requests that drive each Ollama, and
    the bounds of losing a replica."""

    file: str                          # the swarm override beside the manifest
    replicas: dict[str, int]           # Ollama -> replicas it must run
    drive: dict[str, Request]          # Ollama -> a request that makes an app call it
    requests: int = 16                 # per burst
    workers: int = 4
    max_failed: int = 4                # failed requests allowed while one replica is killed
    recover_s: float = 120             # until swarm has every replica healthy again


@dataclass(frozen=True)
class History:
    """The manifest's `history`: how many kept runs form the baseline (the median of each figure), the window in
    which a test whose outcome changed twice is unstable, and the bounds past which a figure is a regression (it
    must exceed both ratio × its baseline and its baseline + slack)."""

    baseline_runs: int = 3
    min_baseline_runs: int = 2   # fewer kept runs: figures are shown, not judged (one run's noise would false-alarm)
    unstable_window: int = 5
    startup_ratio: float = 1.5
    startup_slack_s: float = 5.0
    step_ratio: float = 1.3
    step_slack_s: float = 0.5
    new_security_findings: bool = True


@dataclass(frozen=True)
class ModelMemory:
    """What one model needs in memory while loaded: its weights, and the KV cache of one parallel slot."""

    weights_gib: float
    kv_gib_per_slot: float


@dataclass(frozen=True)
class Memory:
    """The manifest's `memory`: each model's need, and what an Ollama adds per loaded model and for itself. An
    Ollama's worst case is its OLLAMA_MAX_LOADED_MODELS largest models, each with OLLAMA_NUM_PARALLEL slots."""

    models: dict[str, ModelMemory]
    per_model_overhead_gib: float = 0.5
    headroom_gib: float = 1.0
    source: str = ""

    def need_gib(self, model: str, parallel: int) -> float:
        """GiB one loaded model takes with `parallel` slots (KeyError when the manifest does not size it)."""
        m = self.models[model]
        return m.weights_gib + m.kv_gib_per_slot * parallel + self.per_model_overhead_gib


@dataclass(frozen=True)
class MaySet:
    """One key the airgap override may set on a service (a dotted, fnmatch-style path: 'environment.UPSTREAM_*'),
    on the services named (all when none), and why swapping it keeps production as written."""

    key: str
    why: str
    services: tuple[str, ...] = ()

    def allows(self, service: str, key: str) -> bool:
        from fnmatch import fnmatchcase

        return (not self.services or service in self.services) and fnmatchcase(key, self.key)


@dataclass(frozen=True)
class Phrasing:
    """One way the round-trips state their facts (the manifest's `facts.phrasings`): the stem of this run's vendor
    names, the stems of the distractor parties, and the words and sentences (templates over {number} and {vendor})
    the round-trips' templates name. Each run draws one, so the services are proven on more than one wording."""

    id: str
    vendor: str = "ACME"
    others: tuple[str, str] = ("GLOBEX", "INITECH")
    words: dict[str, str] = field(default_factory=dict)
    terms: tuple[str, ...] = ()  # its field names and kinds of document (no service's worked example uses them)
    drawn: bool = True  # false: declared (and kept apart from the services' examples), but no run draws it
