"""Judging a fault run: caught only when the named test failed with a finding on the fault's own metric and
service and the metric reads as expected; consequences belong to one fault; a clean group must run tests."""

from stackgate.faults import Fault, SuiteRun, groups, judge
from tests_faults.catalogue import CATALOGUE

FAULT = Fault("f", "ocr to llm", (), (r"test_routing\[ocr-service\]",), "routing", "ocr-service",
              may_fail=(r"test_logs\[ocr-service\]",))
GOOD = "[Each service routed to the right Ollama] ocr-service sent POST /api/chat to ollama"
ROUTING_FAILED = {"routing": {"metric": "routing", "status": "FAIL", "why": "1 of 7 test(s) failed"}}


def run(failures, metrics=ROUTING_FAILED, passed=5):
    return SuiteRun(dict(failures), passed=passed, metrics=dict(metrics))


def test_caught_when_the_named_test_fails_with_metric_and_service():
    (v,) = judge([FAULT], run({"m::test_routing[ocr-service]": GOOD, "m::test_logs[ocr-service]": "x"}), "A")
    assert v.caught and v.problems == []


def test_missed_when_the_named_test_passes():
    (v,) = judge([FAULT], run({}, {}), "A")
    assert not v.caught and "missed" in v.problems[0]


def test_a_message_without_the_metric_is_not_enough():
    (v,) = judge([FAULT], run({"m::test_routing[ocr-service]": "ocr-service: AssertionError"}), "A")
    assert not v.caught


def test_a_message_naming_the_service_only_in_passing_is_not_enough():
    """A dependency's failure that lists the service (e.g. as 'created') does not catch a fault of that service."""
    msg = "[Each service routed to the right Ollama] stack: expected healthy; saw ocr-service (created)"
    (v,) = judge([FAULT], run({"m::test_routing[ocr-service]": msg}), "A")
    assert not v.caught and "without a finding about ocr-service" in v.problems[0]


def test_the_metric_must_read_as_the_fault_expects():
    (v,) = judge([FAULT], run({"m::test_routing[ocr-service]": GOOD}, {"routing": {"status": "PASS"}}), "A")
    assert not v.caught and "metric routing reads PASS (expected FAIL)" in v.problems


def test_a_fault_expected_to_leave_its_metric_unknown_must_name_its_service():
    fault = Fault("b", "no browser", (), (), "frontend-loads", "frontend", status="UNKNOWN")
    unknown = {"frontend-loads": {"status": "UNKNOWN", "why": "1 test(s) skipped: [Frontend loads] frontend: no browser"}}
    (v,) = judge([fault], run({}, unknown), "B")
    assert v.caught
    (v,) = judge([fault], run({}, {"frontend-loads": {"status": "UNKNOWN", "why": "no test ran"}}), "B")
    assert not v.caught


def test_an_undeclared_failure_is_an_accident():
    (v,) = judge([FAULT], run({"m::test_routing[ocr-service]": GOOD, "m::test_other[redis]": "boom"}), "A")
    assert not v.caught and any("unexpected failure: m::test_other[redis]" in p for p in v.problems)


def test_a_consequence_belongs_to_its_own_fault_only():
    """Fault g's declared consequence does not excuse that failure when g itself was not caught."""
    other = Fault("g", "notes broken", (), (r"test_notes",), "llm-queries", "notes-service",
                  may_fail=(r"test_logs\[ocr-service\]",))
    (f, g) = judge([FAULT, other], run({"m::test_routing[ocr-service]": GOOD, "m::test_logs[ocr-service]": "x"}), "A")
    assert f.caught and not g.caught  # f claims the log failure; g was missed
    lone = Fault("h", "h", (), (r"test_routing\[ocr-service\]",), "routing", "ocr-service")
    (h, g) = judge([lone, other], run({"m::test_routing[ocr-service]": GOOD, "m::test_logs[ocr-service]": "x"}), "A")
    assert not h.caught and any("unexpected failure: m::test_logs" in p for p in h.problems)


def test_a_clean_run_with_tests_and_no_failure_is_no_false_alarm():
    (v,) = judge([], run({}, {}), "clean")
    assert v.caught and v.fault is None and v.problems == ["5 test(s) ran"]


def test_a_clean_group_where_no_test_ran_proves_nothing():
    (v,) = judge([], run({}, {}, passed=0), "clean")
    assert not v.caught and "no test ran" in v.problems[-1]


def test_a_clean_group_with_a_required_metric_unknown_is_a_false_alarm():
    skipped = {"status": "UNKNOWN", "why": "1 skip", "required": True, "tests": [{"outcome": "skipped"}]}
    (v,) = judge([], run({}, {"frontend-loads": skipped}), "clean")
    assert not v.caught


def test_a_clean_static_group_ignores_the_metrics_it_does_not_run():
    (v,) = judge([], run({}, {"frontend-loads": {"status": "UNKNOWN", "why": "no test ran", "tests": []}}), "static-clean")
    assert v.caught


def test_the_catalogue_covers_what_the_gate_must_prove():
    ids = {f.id for f in CATALOGUE}
    assert sum(i.startswith("route-") for i in ids) == 7
    for needed in ("vision-model-missing", "llm-model-on-vision", "shared-model-volume", "missing-healthcheck",
                   "service-exits-after-start", "notes-work-endpoint-fails", "datastore-down",
                   "error-logged-after-init", "rollback-loses-data", "seed-doc-processor-env",
                   "healthcheck-cannot-fail", "ollama-healthcheck-ignores-models", "app-healthcheck-always-passes",
                   "error-begins-after-the-last-test", "rollback-leaves-an-orphan", "browser-cannot-start",
                   "latest-tag", "built-image-may-be-pulled", "ollama-bound-to-every-interface", "literal-password",
                   "healthcheck-budget-short", "chromadb-client-server-mismatch", "entrypoint-repulls-without-registry",
                   "privileged-container", "docker-socket-mounted", "host-pid-namespace", "data-store-published"):
        assert needed in ids
    assert {"clean", "static-clean"} <= set(groups(CATALOGUE))


def test_a_fault_breaking_a_second_metric_is_caught_on_both_findings():
    """The seed's doc-processor env fails a models test and a routing test, each naming doc-processor."""
    fault = Fault("s", "seed env", (), (r"test_models\[doc-processor\]", r"test_urls\[doc-processor\]"), "models",
                  "doc-processor")
    failures = {"m::test_models[doc-processor]": "[Required models present, separated by job] doc-processor: expected x",
                "m::test_urls[doc-processor]": "[Each service routed to the right Ollama] doc-processor: expected y"}
    (v,) = judge([fault], run(failures, {"models": {"status": "FAIL"}}), "static")
    assert v.caught, v.problems


def test_a_group_runs_the_union_of_its_faults_tests_or_its_whole_suite_when_one_needs_all():
    from dataclasses import replace

    from stackgate.faults import suite_for

    a = replace(FAULT, suite="resilience-only", tests="test_a")
    b = replace(FAULT, suite="resilience-only", tests="test_b or test_c")
    _, args, _ = suite_for("S", [a, b], ["airgap"])
    assert args[args.index("-k") + 1] == "(test_a) or (test_b or test_c)"
    _, args, _ = suite_for("S", [a, replace(FAULT, suite="resilience-only")], ["airgap"])
    assert "-k" not in args


def test_a_faults_test_selection_selects_every_test_it_must_fail():
    import re

    from _pytest.mark.expression import Expression

    for f in CATALOGUE:
        if not f.tests:
            continue
        expression = Expression.compile(f.tests)
        for pattern in f.must_fail:
            name = re.sub(r"\\(.)", r"\1", pattern).split("[")[0]  # the test function the regex names
            assert expression.evaluate(lambda word, name=name: word in name), (f.id, pattern)
