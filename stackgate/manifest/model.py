"""The manifest as plain typed data: what the stack must be (services, Ollamas, gates, round-trips, sections).

Nothing here reads a file or acts on the stack: `loader` builds these from YAML, the layers above act on them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from stackgate.core.errors import ManifestError

from .requests import Request, Roundtrip
from .sections import History, Isolation, MaySet, Memory, Phrasing, Scale

KINDS = ("ollama", "app", "frontend", "store")


@dataclass(frozen=True)
class OllamaSpec:
    """One Ollama: where it answers, its job, the models it must and must not hold."""

    name: str
    port: int
    internal_url: str
    job: str
    volume: str
    models: tuple[str, ...]
    must_not_hold: tuple[str, ...]
    models_env: str = "MODELS"   # the variable its healthcheck reads the models it must hold from
    api: str = "ollama"          # "ollama", or "openai": an OpenAI-compatible server (vLLM) in an Ollama's place

    @property
    def internal_port(self) -> int:
        return urlparse(self.internal_url).port or 80


@dataclass(frozen=True)
class ServiceSpec:
    """One compose service and what the suite expects of it."""

    name: str
    kind: str
    port: int | None = None
    health: str = "/health"
    routes: dict[str, str] = field(default_factory=dict)   # URL variable -> Ollama service
    models: dict[str, str] = field(default_factory=dict)   # model variable -> URL variable
    volume: str | None = None
    probe: tuple[Request, ...] = ()        # the request(s) that make the app call every Ollama it is routed to
    page: dict[str, str] = field(default_factory=dict)  # a frontend: path, title, ready, rows, healthy
    health_covers: tuple[str, ...] | None = None  # what its healthcheck must fail without (None: its depends_on's)


@dataclass(frozen=True)
class Suppression:
    """A compose-lint rule accepted (for some services, or all), and why."""

    rule: str
    why: str
    services: tuple[str, ...] = ()

    def covers(self, rule: str, service: str) -> bool:
        return rule == self.rule and (not self.services or service in self.services)


@dataclass(frozen=True)
class OptionalSkip:
    """A skip the manifest accepts inside a metric: its reason matches `pattern`; `why` says why it is fine."""

    metric: str
    pattern: re.Pattern[str]
    why: str

    def covers(self, metric: str, result: Any) -> bool:
        """True for a skipped result (a verdict.metrics.Result) of this metric whose reason matches."""
        return result.outcome == "skipped" and metric == self.metric and bool(self.pattern.search(result.reason))


@dataclass(frozen=True)
class Gate:
    """A named gate: the metrics it requires, and how long the log scan keeps watching after the last check."""

    name: str
    metrics: tuple[str, ...]
    watch_logs_s: float = 0.0


@dataclass(frozen=True)
class Manifest:
    """The whole manifest."""

    path: Path
    project_dir: Path
    layouts: dict[str, tuple[str, ...]]
    profiles: dict[str, dict[str, tuple[str, ...]]]
    startup_budget_s: dict[str, dict[str, float]]   # '' (default) or a profile -> first_run / later_start -> s
    network: str
    host: str
    ollamas: dict[str, OllamaSpec]
    services: dict[str, ServiceSpec]
    rollback_ollama: str
    rollback_models: tuple[str, ...]
    rollback_keeps: tuple[str, ...]
    roundtrips: dict[str, Roundtrip]
    error_pattern: re.Pattern[str]
    allow: tuple[re.Pattern[str], ...]
    timeline_s: dict[str, dict[str, float]]   # 'first_run' / 'later_start' -> service (or '*') -> seconds
    gates: dict[str, Gate] = field(default_factory=dict)
    optional_skips: tuple[OptionalSkip, ...] = ()
    images: dict[str, str] = field(default_factory=dict)           # official image -> the pinned tag
    suppressions: tuple[Suppression, ...] = ()
    exposed_ollamas: dict[str, str] = field(default_factory=dict)  # Ollama -> why it may bind beyond loopback
    versions: dict[str, dict[str, Any]] = field(default_factory=dict)  # package -> server, requirement files
    isolation: Isolation | None = None  # LLM latency under a vision burst, and its bound
    rollback_manifest: str = ""  # rollback.manifest: the layout a rollback moves to is another manifest's deployment
    scale: Scale | None = None  # the swarm scale-out (replicas per Ollama, what drives them, losing one)
    history: History = field(default_factory=History)  # the baseline of a run and the bounds of a regression
    memory: Memory | None = None  # each model's memory need: what an Ollama may load at once must fit its limit
    airgap_may_set: tuple[MaySet, ...] | None = None  # what the airgap override may change (None: not declared)
    rollback_volume_held: dict[str, tuple[str, ...]] = field(default_factory=dict)  # Ollama -> models a site's kept
                                                                                     # volume held before the migration
    expected_errors: tuple[ExpectedError, ...] = ()  # logs.during: what each kind of disruption may make a service log
    phrasings: tuple[Phrasing, ...] = (Phrasing("plain"),)  # facts.phrasings: the wordings a run draws one of

    def phrasing(self, phrasing_id: str | None) -> Phrasing:
        """The phrasing of that id (a run's draw), else the first."""
        return next((p for p in self.phrasings if p.id == phrasing_id), self.phrasings[0])

    def startup_timeout_s(self, profiles: list[str] | tuple[str, ...] = (), first_run: bool = True) -> float:
        """The bound of `up --wait`: the profile's (or the default) first-run or later-start budget."""
        key = "first_run" if first_run else "later_start"
        for profile in profiles:
            if key in self.startup_budget_s.get(profile, {}):
                return self.startup_budget_s[profile][key]
        return self.startup_budget_s[""][key]

    def expected_healthy_s(self, service: str, first_run: bool) -> float | None:
        """The documented seconds from `up` to healthy for a service, on a first run or a later start."""
        table = self.timeline_s.get("first_run" if first_run else "later_start", {})
        return table.get(service, table.get("*"))

    def compose_files(self, layout: str, profiles: list[str]) -> list[Path]:
        """The compose files of a layout ('separated' or 'simple') with the profiles' overrides."""
        files = list(self.layouts[layout])
        for profile in profiles:
            files += self.profiles.get(profile, {}).get(layout, ())
        return [self.project_dir / f for f in files]

    def url(self, service: str) -> str:
        """The host URL of a service's published port."""
        port = self.ollamas[service].port if service in self.ollamas else self.services[service].port
        if port is None:
            raise ManifestError(f"manifest: service {service} publishes no port")
        return f"http://{self.host}:{port}"

    def apps(self) -> list[ServiceSpec]:
        """Services that call an Ollama (they have routes)."""
        return [s for s in self.services.values() if s.routes]

    def frontends(self) -> list[ServiceSpec]:
        """Services whose page a browser must render."""
        return [s for s in self.services.values() if s.kind == "frontend"]

    def is_error_line(self, line: str) -> bool:
        """True when a log line matches the error pattern and no allowlist entry."""
        return bool(self.error_pattern.search(line)) and not any(a.search(line) for a in self.allow)

    def expected_during(self, disruption: str, target: str, service: str, line: str) -> ExpectedError | None:
        """The declaration that lets a disruption (of target) make a service log this error line, if any."""
        return next((e for e in self.expected_errors if e.covers(disruption, target, service, line)), None)


@dataclass(frozen=True)
class ExpectedError:
    """An error line a disruption is expected to make a service log: which disruption, which service, why."""

    disruption: str              # a kind of disruption (stackgate.evidence.disruptions.KINDS)
    service: str                 # the service that logs it
    pattern: re.Pattern[str]
    why: str
    of: str = ""                 # the disturbed service it is expected of ('' : any)

    def covers(self, disruption: str, target: str, service: str, line: str) -> bool:
        return (disruption == self.disruption and service == self.service and self.of in ("", target)
                and bool(self.pattern.search(line)))


@dataclass(frozen=True)
class RollbackTarget:
    """A layout a rollback moves to, and the manifest whose expectations it must meet there."""

    manifest: Manifest
    layout: str

    @property
    def label(self) -> str:
        """How reports name it: 'simple', or 'separated (manifest.yaml)' for another manifest's deployment."""
        return self.layout if self.layout == "simple" else f"{self.layout} ({self.manifest.path.name})"

    def compose_files(self, profiles: list[str]) -> list[Path]:
        return self.manifest.compose_files(self.layout, profiles)
