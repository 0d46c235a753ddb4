"""Dynamic routing: read which Ollama served each service (by client IP in `[GIN]` lines), from the traffic the
gate's round-trips already made; a service they did not exercise at every Ollama of its routes is triggered with its
own probe.

Works unchanged against real Ollama: it only needs Ollama's access log and the compose network.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import httpx

from stackgate.core.metrics import finding_line, tag
from stackgate.core.wait import wait_until
from stackgate.engines.base import Stack

from . import send
from .accesslog import Access, parse


@dataclass
class Observation:
    """What one trigger caused: its HTTP status, and the requests each Ollama saw from the service's IP."""

    service: str
    ip: str | None
    status: int | str                      # the probe's status (or error); 'traffic' when seen without a probe
    seen: dict[str, list[Access]] = field(default_factory=dict)
    via: str = "its probe"                 # what made the requests: its probe, or the round-trips' own requests

    def ollamas_reached(self) -> set[str]:
        """Ollamas that saw any request from the service (a health probe at the wrong one counts too)."""
        return {name for name, accesses in self.seen.items() if accesses}

    def ollamas_worked(self) -> set[str]:
        """Ollamas that saw a work request from the service (not a liveness probe like GET /api/version)."""
        return {name for name, accesses in self.seen.items() if any(is_work(a) for a in accesses)}


PROBE_PATHS = ("/", "/api/version", "/api/tags", "/api/ps", "/health", "/version", "/v1/models")


def is_work(access: Access) -> bool:
    """True for a request that makes an Ollama work (generate, chat, embed, ...), not a liveness probe."""
    return not (access.method in ("GET", "HEAD") and access.path in PROBE_PATHS)


def from_traffic(stack: Stack, services: list[str], ollamas: list[str], since: float) -> dict[str, Observation]:
    """The services whose requests since `since` (the gate's own traffic: its round-trips) already show where they
    go: each one that did work at every Ollama of its routes, or reached an Ollama outside them (a finding either
    way). The others are not in the result: they need their probe."""
    ips = {svc: ip for ip, svc in stack.ip_map().items()}
    accesses = {o: parse(stack.logs(o, since=since)) for o in ollamas}
    out = {}
    for svc in services:
        ip = ips.get(svc)
        seen = {o: [a for a in accesses[o] if ip is not None and a.client_ip == ip] for o in ollamas}
        obs = Observation(svc, ip, "traffic", seen, via="the round-trips' own requests")
        want = set(stack.manifest.services[svc].routes.values())
        if want and (want <= obs.ollamas_worked() or obs.ollamas_reached() - want):
            out[svc] = obs
    return out


def observe(stack: Stack, http: httpx.Client, services: list[str], ollamas: list[str], values: dict[str, str],
            settle_s: float = 15.0) -> dict[str, Observation]:
    """Send each service's probe (from the manifest) concurrently; return, per service, the Ollama requests
    from its IP since then."""
    ips = {svc: ip for ip, svc in stack.ip_map().items()}
    since = time.time() - 1.0

    def fire(svc: str) -> tuple[str, int | str]:
        spec = stack.manifest.services[svc]
        try:
            resp = send.fire(http, stack.manifest, spec.probe, values)
        except httpx.HTTPError as exc:
            return svc, f"{type(exc).__name__}: {exc}"
        return svc, resp.status_code if resp.status_code == spec.probe[-1].expect else \
            f"{resp.status_code} (expected {spec.probe[-1].expect}): {resp.text[:150]}"

    with ThreadPoolExecutor(max_workers=len(services) or 1) as pool:
        statuses = dict(pool.map(fire, services))

    def collect() -> dict[str, list[Access]]:
        return {o: parse(stack.logs(o, since=since)) for o in ollamas}

    accesses: dict[str, list[Access]] = {}

    def every_service_seen() -> bool:
        nonlocal accesses
        accesses = collect()
        reached = {a.client_ip for lst in accesses.values() for a in lst if is_work(a)}
        return all(ips.get(s) in reached for s in services if isinstance(statuses[s], int))

    wait_until(every_service_seen, timeout=settle_s, pause=0.2)
    return {svc: Observation(svc, ips.get(svc), statuses[svc],
                             {o: [a for a in accesses.get(o, []) if a.client_ip == ips.get(svc)] for o in ollamas})
            for svc in services}


def verdict(obs: Observation, expected: dict[str, str]) -> list[str]:
    """Findings for one service: each expected Ollama reached, no other Ollama reached."""
    problems = []
    if not isinstance(obs.status, int) and obs.status != "traffic":
        problems.append(finding_line("routing", obs.service, f"expected its probe to succeed; saw {obs.status}"))
    want = set(expected.values())
    for var, ollama in expected.items():
        if ollama not in obs.ollamas_worked():
            problems.append(finding_line("routing", obs.service, f"expected a work request at {ollama} (via {var}); "
                                         f"saw none from {obs.ip} ({obs.via})"))
    for ollama in sorted(obs.ollamas_reached() - want):
        a = obs.seen[ollama][0]
        problems.append(f"{tag('routing', obs.service)} sent {a.method} {a.path} to {ollama} (expected "
                        f"{' or '.join(sorted(want))}); seen at {a.when:%H:%M:%S} from {a.client_ip} ({obs.via})")
    return problems
