"""Routing read from the round-trips' own traffic: a probe only for an app that traffic did not show at every
Ollama of its routes; a wrong Ollama seen in the traffic is a finding without any probe."""

from __future__ import annotations

from datetime import datetime

from stackgate import manifest
from stackgate.evidence.routing import from_traffic, verdict
from standin_ollama.gin import gin_line

IPS = {"10.0.0.2": "notes-service", "10.0.0.3": "ner-graph-service", "10.0.0.4": "ocr-service",
       "10.0.0.5": "doc-processor"}


class Stack:
    def __init__(self, lines: dict[str, list[tuple[str, str, str]]]) -> None:
        self.manifest = manifest.load()
        self.lines = lines

    def ip_map(self) -> dict[str, str]:
        return IPS

    def logs(self, service: str, since: float) -> list[str]:
        return [gin_line(datetime(2026, 12, 2, 4, 0, 0), 200, 0.5, ip, method, path)
                for ip, method, path in self.lines.get(service, [])]


def test_traffic_shows_routing_and_only_the_unexercised_need_a_probe():
    stack = Stack({"ollama": [("10.0.0.2", "POST", "/api/chat"), ("10.0.0.5", "POST", "/api/chat"),
                              ("10.0.0.3", "GET", "/api/version")],          # ner: a liveness probe only
                   "ollama-vision": [("10.0.0.4", "POST", "/api/chat"), ("10.0.0.3", "POST", "/api/chat")]})
    seen = from_traffic(stack, list(IPS.values()), ["ollama", "ollama-vision"], since=0)
    assert set(seen) == {"notes-service", "ocr-service", "ner-graph-service"}  # doc-processor: vision not seen
    assert verdict(seen["notes-service"], {"OLLAMA_URL": "ollama"}) == []
    problems = verdict(seen["ner-graph-service"], {"OLLAMA_URL": "ollama"})  # its work went to the vision Ollama
    assert any("sent POST /api/chat to ollama-vision" in p and "round-trips' own requests" in p for p in problems)
    assert any("expected a work request at ollama" in p for p in problems)
