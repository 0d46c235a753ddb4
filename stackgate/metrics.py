"""The success metrics (the seed's list, plus models, routing, rollback) and their aggregation.

A metric passes only with evidence: zero tests is UNKNOWN, never PASS.
"""

from __future__ import annotations

from dataclasses import dataclass, field

METRICS: dict[str, str] = {
    "ollamas-healthy": "Both Ollama services healthy",
    "services-running": "All 13 services running",
    "logs-clean": "No errors in logs after initialization",
    "health-endpoints": "Health endpoints responding",
    "document-processing": "Document processing works",
    "llm-queries": "LLM queries respond",
    "frontend-loads": "Frontend loads",
    "models": "Required models present, separated by job",
    "routing": "Each service routed to the right Ollama",
    "compose-contract": "Compose files keep the deployment contract",
    "ollama-api": "Ollama API conformance",
    "rollback": "Clean rollback to the simple stack and forward again",
    "gpu": "Ollamas run their models on the GPU (when the host has one)",
}


def finding(metric: str, service: str, expected: str, seen: str) -> str:
    """A failure message that reads like a finding: metric, service, expected vs seen."""
    title = METRICS.get(metric, metric)
    return f"[{title}] {service}: expected {expected}; saw {seen}"


@dataclass
class Result:
    nodeid: str
    outcome: str  # passed / failed / skipped
    reason: str = ""


@dataclass
class MetricStatus:
    metric: str
    title: str
    status: str  # PASS / FAIL / SKIPPED / UNKNOWN
    results: list[Result] = field(default_factory=list)

    @property
    def reason(self) -> str:
        reasons = sorted({r.reason for r in self.results if r.outcome != "passed" and r.reason})
        return "; ".join(reasons)[:300]


def aggregate(results: dict[str, list[Result]]) -> list[MetricStatus]:
    """Status per metric: FAIL if any failed, PASS if all passed, SKIPPED if all skipped, else UNKNOWN."""
    out = []
    for metric, title in METRICS.items():
        rs = results.get(metric, [])
        outcomes = {r.outcome for r in rs}
        if not rs:
            status = "UNKNOWN"
        elif "failed" in outcomes:
            status = "FAIL"
        elif outcomes == {"passed"}:
            status = "PASS"
        elif outcomes == {"skipped"}:
            status = "SKIPPED"
        else:
            status = "PASS (some skipped)"
        out.append(MetricStatus(metric, title, status, rs))
    return out
