"""The verdict rules: a metric is PASS only when each of its tests ran and passed; a skip is UNKNOWN unless the
manifest declares it optional; a gate fails on FAIL, is incomplete on UNKNOWN, ignores metrics it does not need."""

import re

from stackgate.manifest import Gate, OptionalSkip
from stackgate.verdict.metrics import Result, aggregate, gate_verdict, judge_metric

GPU_ABSENT = OptionalSkip("gpu", re.compile("^no GPU:"), "the host has no GPU")
SMOKE = Gate("smoke", ("routing", "frontend-loads", "gpu"))


def by_metric(results, gate=SMOKE, optional=(GPU_ABSENT,)):
    return {m.metric: m for m in aggregate(results, gate, optional)}


def test_every_test_passed_is_pass():
    assert judge_metric("routing", [Result("a", "passed"), Result("b", "passed")])[0] == "PASS"


def test_one_failure_is_fail_whatever_else_happened():
    status, why = judge_metric("routing", [Result("a", "passed"), Result("b", "skipped", "x"), Result("c", "failed")])
    assert status == "FAIL" and "1 of 3" in why


def test_a_skip_inside_a_metric_makes_it_unknown_and_says_why():
    status, why = judge_metric("frontend-loads", [Result("a", "passed"), Result("b", "skipped", "chromium not installed")])
    assert status == "UNKNOWN" and "chromium not installed" in why


def test_a_declared_optional_skip_keeps_the_metric_passing():
    status, why = judge_metric("gpu", [Result("a", "passed"), Result("b", "skipped", "no GPU: none")], (GPU_ABSENT,))
    assert status == "PASS" and "1 optional skip" in why


def test_only_optional_skips_is_skipped_with_the_declared_reason():
    status, why = judge_metric("gpu", [Result("a", "skipped", "no GPU: none")], (GPU_ABSENT,))
    assert status == "SKIPPED" and "the host has no GPU" in why


def test_an_optional_skip_applies_only_to_its_metric_and_reason():
    assert judge_metric("routing", [Result("a", "skipped", "no GPU: none")], (GPU_ABSENT,))[0] == "UNKNOWN"
    assert judge_metric("gpu", [Result("a", "skipped", "stack did not start")], (GPU_ABSENT,))[0] == "UNKNOWN"


def test_no_test_ran_is_unknown_never_pass():
    assert judge_metric("routing", []) == ("UNKNOWN", "no test ran")


def test_a_metric_outside_the_gate_reads_not_in_this_gate():
    m = by_metric({})["rollback"]
    assert m.status == "not in this gate" and not m.required


def test_the_gate_passes_with_pass_and_optional_skipped_only():
    ms = by_metric({"routing": [Result("a", "passed")], "frontend-loads": [Result("b", "passed")],
                    "gpu": [Result("c", "skipped", "no GPU: none")]})
    assert gate_verdict(list(ms.values())) == ("PASSED", [])


def test_a_required_unknown_makes_the_gate_incomplete_and_names_it():
    ms = by_metric({"routing": [Result("a", "passed")], "frontend-loads": [Result("b", "skipped", "no browser")],
                    "gpu": [Result("c", "skipped", "no GPU: none")]})
    verdict, problems = gate_verdict(list(ms.values()))
    assert verdict == "INCOMPLETE" and len(problems) == 1 and problems[0].startswith("Frontend loads: UNKNOWN")


def test_a_required_metric_with_no_test_makes_the_gate_incomplete():
    ms = by_metric({"routing": [Result("a", "passed")], "gpu": [Result("c", "skipped", "no GPU: none")]})
    verdict, problems = gate_verdict(list(ms.values()))
    assert verdict == "INCOMPLETE" and "no test ran" in problems[0]


def test_a_required_failure_fails_the_gate():
    ms = by_metric({"routing": [Result("a", "failed", "x")], "frontend-loads": [Result("b", "skipped", "no browser")]})
    assert gate_verdict(list(ms.values()))[0] == "FAILED"


def test_a_failure_outside_the_gate_does_not_fail_it():
    ms = by_metric({"routing": [Result("a", "passed")], "frontend-loads": [Result("b", "passed")],
                    "gpu": [Result("c", "passed")], "rollback": [Result("d", "failed", "x")]})
    assert ms["rollback"].status == "FAIL" and gate_verdict(list(ms.values())) == ("PASSED", [])


def test_a_deselected_or_unreached_test_leaves_its_metric_unknown():
    status, why = judge_metric("routing", [Result("a", "passed"), Result("b", "deselected", "deselected (-k)")])
    assert status == "UNKNOWN" and "did not run" in why
    assert judge_metric("routing", [Result("a", "passed"), Result("b", "not run", "never reached")])[0] == "UNKNOWN"


def test_a_metric_outside_the_gate_whose_tests_were_deselected_reads_not_in_this_gate():
    assert by_metric({"rollback": [Result("a", "deselected", "-m smoke")]})["rollback"].status == "not in this gate"
