"""Metric aggregation (no evidence is UNKNOWN) and the routing verdict's findings."""

from datetime import datetime

from stackgate.core.metrics import finding
from stackgate.evidence.accesslog import Access
from stackgate.evidence.routing import Observation, verdict
from stackgate.verdict.metrics import Result, aggregate


def status(results):
    return {m.metric: m.status for m in aggregate(results)}


def test_a_metric_without_tests_is_unknown_never_pass():
    assert status({})["routing"] == "UNKNOWN"


def test_one_failure_fails_the_metric():
    s = status({"routing": [Result("a", "passed"), Result("b", "failed", "x")]})
    assert s["routing"] == "FAIL"


def test_all_passed_is_pass():
    assert status({"models": [Result("a", "passed"), Result("b", "passed")]})["models"] == "PASS"


def test_a_finding_names_metric_service_expected_and_seen():
    msg = finding("routing", "ocr-service", "ollama-vision", "ollama")
    assert msg == "[Each service routed to the right Ollama] ocr-service: expected ollama-vision; saw ollama"


def access(ip):
    return Access(datetime(2026, 1, 1, 12, 1, 3), 200, "1ms", ip, "POST", "/api/chat")


def test_a_request_at_the_wrong_ollama_is_reported_like_a_finding():
    obs = Observation("ocr-service", "172.20.0.7", 200, {"ollama": [access("172.20.0.7")], "ollama-vision": []})
    problems = verdict(obs, {"OLLAMA_URL": "ollama-vision"})
    assert ("[Each service routed to the right Ollama] ocr-service sent POST /api/chat to ollama (expected "
            "ollama-vision); seen at 12:01:03 from 172.20.0.7 (its probe)") in problems
    assert any("expected a work request at ollama-vision" in p for p in problems)


def test_a_liveness_probe_at_the_right_ollama_is_no_evidence_of_routing():
    probe = Access(datetime(2026, 1, 1, 12, 1, 3), 200, "1ms", "172.20.0.7", "GET", "/api/version")
    obs = Observation("ocr-service", "172.20.0.7", 200, {"ollama-vision": [probe]})
    assert any("expected a work request at ollama-vision" in p for p in verdict(obs, {"OLLAMA_URL": "ollama-vision"}))


def test_a_service_using_both_its_ollamas_passes():
    obs = Observation("doc-processor", "10.0.0.2", 201, {"ollama": [access("10.0.0.2")],
                                                         "ollama-vision": [access("10.0.0.2")]})
    assert verdict(obs, {"VISION_OLLAMA_URL": "ollama-vision", "OLLAMA_URL": "ollama"}) == []


def test_a_failed_probe_is_a_finding():
    obs = Observation("notes-service", "10.0.0.3", "502 (expected 201): {}", {"ollama": [access("10.0.0.3")]})
    assert any("expected its probe to succeed; saw 502 (expected 201)" in p for p in verdict(obs, {"OLLAMA_URL": "ollama"}))
