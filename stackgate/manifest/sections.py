"""The manifest's measurement sections as plain data: `isolation` (LLM latency under a vision burst), `scale`
(the swarm scale-out) and `history` (the baseline and the bounds of a regression). Their defaults live here once;
the loader passes only what a manifest sets."""

from __future__ import annotations

from dataclasses import dataclass

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
