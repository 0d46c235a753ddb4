"""Judging a fault run: caught only when the named test failed naming metric and service; accidents fail."""

from stackgate.faults import CATALOGUE, Fault, SuiteRun, groups, judge

FAULT = Fault("f", "ocr to llm", (), (r"test_routing\[ocr-service\]",), "routing", "ocr-service",
              may_fail=(r"test_logs\[ocr-service\]",))
GOOD = "[Each service routed to the right Ollama] ocr-service sent POST /api/chat to ollama"


def test_caught_when_the_named_test_fails_with_metric_and_service():
    (v,) = judge([FAULT], SuiteRun({"m::test_routing[ocr-service]": GOOD, "m::test_logs[ocr-service]": "x"}), "A")
    assert v.caught and v.problems == []


def test_missed_when_the_named_test_passes():
    (v,) = judge([FAULT], SuiteRun({}), "A")
    assert not v.caught and "missed" in v.problems[0]


def test_a_message_without_the_metric_is_not_enough():
    (v,) = judge([FAULT], SuiteRun({"m::test_routing[ocr-service]": "ocr-service: AssertionError"}), "A")
    assert not v.caught


def test_an_undeclared_failure_is_an_accident():
    (v,) = judge([FAULT], SuiteRun({"m::test_routing[ocr-service]": GOOD, "m::test_other[redis]": "boom"}), "A")
    assert not v.caught and any("unexpected failure: m::test_other[redis]" in p for p in v.problems)


def test_a_clean_run_with_no_failure_is_no_false_alarm():
    (v,) = judge([], SuiteRun({}), "clean")
    assert v.caught and v.fault is None


def test_the_catalogue_covers_what_the_gate_must_prove():
    ids = {f.id for f in CATALOGUE}
    assert sum(i.startswith("route-") for i in ids) == 7
    for needed in ("vision-model-missing", "llm-model-on-vision", "shared-model-volume", "missing-healthcheck",
                   "service-exits-after-start", "notes-work-endpoint-fails", "datastore-down",
                   "error-logged-after-init", "rollback-loses-data", "seed-doc-processor-env"):
        assert needed in ids
    assert {"clean", "static-clean"} <= set(groups())
