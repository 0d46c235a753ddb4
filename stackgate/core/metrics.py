"""The success metrics the gate knows (the seed's list, plus models, routing, rollback…) and the one finding
format: `[Metric title] service: …`."""

from __future__ import annotations

import re

METRICS: dict[str, str] = {
    "ollamas-healthy": "Both Ollama services healthy",
    "services-running": "All services running",  # the report says how many: the manifest's count
    "logs-clean": "No errors in logs after initialization",
    "health-endpoints": "Health endpoints responding",
    "document-processing": "Document processing works",
    "llm-queries": "LLM queries respond",
    "frontend-loads": "Frontend loads",
    "models": "Required models present, separated by job",
    "routing": "Each service routed to the right Ollama",
    "compose-contract": "Compose files keep the deployment contract",
    "ollama-api": "Ollama API conformance",
    "openai-api": "OpenAI API conformance of the OpenAI-compatible LLM server",
    "security": "Security: no unsuppressed compose-lint finding, nothing exposed",
    "rollback": "Clean rollback (simple stack, or the previous deployment) and forward again",
    "resilience": "Recovers from restarts, a registry outage and a paused Ollama",
    "isolation": "LLM latency holds while vision work runs (the separation's purpose)",
    "gpu": "Ollamas run their models on the GPU (when the host has one)",
    "scale-out": "Replicas of each Ollama share the work and survive losing one (swarm)",
    "regressions": "No regression against the last releases",
}


def tag(metric: str, service: str) -> str:
    """The head of every finding: '[Metric title] service'."""
    return f"[{METRICS.get(metric, metric)}] {service}"


def finding_line(metric: str, service: str, text: str) -> str:
    """A finding in free words: '[Metric title] service: text'."""
    return f"{tag(metric, service)}: {text}"


def finding(metric: str, service: str, expected: str, seen: str) -> str:
    """A failure message that reads like a finding: metric, service, expected vs seen."""
    return finding_line(metric, service, f"expected {expected}; saw {seen}")


def names_finding(message: str, metric: str, service: str) -> bool:
    """True when message holds a finding of this metric about this service."""
    return re.search(re.escape(tag(metric, service)) + r"(:|\s)", message) is not None
