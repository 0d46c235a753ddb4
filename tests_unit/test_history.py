"""The history of runs: records kept per run, compared only with their own kind, regressions past the bounds,
unstable tests marked."""

from __future__ import annotations

import pytest

from stackgate.core.errors import StackgateError
from stackgate.manifest import History
from stackgate.verdict import history
from stackgate.verdict.history import Record

BOUNDS = History()


def run(n: int, gate: str = "smoke", outcome: str = "passed", startup: float = 10.0, step: float = 1.0,
        digest: str = "m1", profile: str = "airgap", security: tuple[str, ...] = ()) -> Record:
    return Record(id=f"r{n:02d}", when=1000.0 + n, gate=gate, verdict="PASSED", stack_commit=f"c{n} (clean)",
                  manifest="stack/manifest.yaml", manifest_digest=digest, profile=profile,
                  metrics={"routing": "PASS" if outcome == "passed" else "FAIL"},
                  tests={"t::a": {"outcome": outcome, "seconds": 0.1}, "t::b": {"outcome": "passed", "seconds": 0.1}},
                  startup_s={"rag-service": startup}, steps_s={"rag//ask": step},
                  step_services={"rag//ask": "rag-service"}, security=list(security))


def test_a_record_survives_the_history_folder(tmp_path):
    r = run(1)
    history.write(r, tmp_path)
    assert history.load_all(tmp_path) == [r]


def test_records_of_another_gate_manifest_or_profile_are_never_the_baseline():
    kept = [run(1, gate="release"), run(2, digest="m2"), run(3, profile="production"), run(4)]
    assert [r.id for r in history.baseline(kept, run(5))] == ["r04"]


def test_a_failed_run_is_no_baseline():
    failed = run(3)
    failed.verdict = "FAILED"
    assert [r.id for r in history.baseline([run(1), run(2), failed], run(4))] == ["r01", "r02"]


def test_the_baseline_is_the_last_runs_of_the_same_kind_or_a_commits_runs():
    kept = [run(i) for i in range(1, 7)]
    assert [r.id for r in history.baseline(kept, run(7), runs=3)] == ["r04", "r05", "r06"]
    assert [r.id for r in history.baseline(kept, run(7), spec="c2")] == ["r02"]
    with pytest.raises(StackgateError, match="no kept run"):
        history.baseline(kept, run(7), spec="nosuch")


def test_a_service_that_starts_20_s_later_is_a_regression():
    base = [run(1), run(2, startup=11.0), run(3, startup=9.5)]
    c = history.compare(run(4, startup=30.0), base, BOUNDS)
    assert len(c.regressions) == 1 and c.regressions[0].startswith("[No regression against the last releases] "
                                                                    "rag-service: expected healthy within 1.5")


def test_noise_within_the_bounds_is_no_regression():
    base = [run(1), run(2, startup=11.0, step=1.2), run(3, startup=9.5, step=0.9)]
    assert history.compare(run(4, startup=14.0, step=1.4), base, BOUNDS).regressions == []


def test_a_slower_llm_step_past_ratio_and_slack_is_a_regression():
    base = [run(1, step=1.0), run(2, step=1.1), run(3, step=0.9)]
    (found,) = history.compare(run(4, step=2.0), base, BOUNDS).regressions
    assert "step rag//ask" in found and found.startswith("[No regression against the last releases] rag-service:")


def test_a_new_security_finding_is_a_regression_and_a_gone_one_is_listed():
    base = [run(0, security=("CL-1 (high) ollama (a.yml)",)), run(1, security=("CL-1 (high) ollama (a.yml)",))]
    c = history.compare(run(2, security=("CL-2 (low) redis (a.yml)",)), base, BOUNDS)
    assert c.security_new == ["CL-2 (low) redis (a.yml)"] and c.security_gone == ["CL-1 (high) ollama (a.yml)"]
    assert any("redis" in f for f in c.regressions)


def test_newly_failing_and_newly_passing_tests_and_changed_metrics_are_listed():
    c = history.compare(run(2, outcome="failed"), [run(1)], BOUNDS)
    assert c.newly_failing == ["t::a"] and c.metrics_changed == [("routing", "PASS", "FAIL")]
    c = history.compare(run(3), [run(2, outcome="failed")], BOUNDS)
    assert c.newly_passing == ["t::a"]


def test_a_test_that_flips_between_pass_and_fail_is_marked_unstable():
    kept = [run(1), run(2, outcome="failed"), run(3), run(4), run(5, outcome="failed")]
    c = history.compare(run(6), kept[-3:], BOUNDS, kept=kept)
    assert c.unstable == [("t::a", 3)]


def test_a_test_that_broke_once_is_not_unstable():
    kept = [run(1), run(2), run(3)]
    assert history.compare(run(4, outcome="failed"), kept, BOUNDS, kept=kept).unstable == []


def test_a_record_of_another_shape_is_skipped_not_a_crash(tmp_path):
    (tmp_path / "bad.json").write_text('{"id": "x", "tests": {"t": 1}}')
    (tmp_path / "worse.json").write_text("[1, 2]")
    history.write(run(1), tmp_path)
    assert [r.id for r in history.load_all(tmp_path)] == ["r01"]


def test_one_baseline_run_is_shown_not_judged():
    c = history.compare(run(2, startup=60.0), [run(1)], BOUNDS)
    assert c.regressions == [] and "1 of the 2 PASSED runs" in c.not_judged
    assert c.startup[0].base == 10.0 and c.startup[0].now == 60.0


def test_no_baseline_compares_nothing():
    c = history.compare(run(1), [], BOUNDS)
    assert c.baseline == [] and c.regressions == [] and "nothing to compare" in history.summary_lines(c)[0]


def test_a_regression_fails_the_release_gate_while_the_smoke_gate_shows_it():
    from stackgate import manifest
    from stackgate.core.metrics import METRICS
    from stackgate.verdict.metrics import FAIL, GATE_FAILED, GATE_PASSED, Result, aggregate, gate_verdict

    m = manifest.load()
    results = {metric: [Result(f"t-{metric}", "passed")] for metric in METRICS}
    results["regressions"] = [Result("t-regressions", "failed", "[No regression against the last releases] x")]
    release, _ = gate_verdict(aggregate(results, m.gates["release"], m.optional_skips))
    smoke = aggregate(results, m.gates["smoke"], m.optional_skips)
    assert release == GATE_FAILED and gate_verdict(smoke)[0] == GATE_PASSED
    assert next(s for s in smoke if s.metric == "regressions").status == FAIL


def test_the_cli_lists_kept_runs_and_compares_two(tmp_path, capsys):
    from stackgate import cli

    for r in (run(1), run(2, startup=31.0), run(3, gate="release")):
        history.write(r, tmp_path)
    assert cli.main(["history", "--history", str(tmp_path)]) == 0
    listing = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in listing[1:]] == ["r01", "r02", "r03"]
    assert cli.main(["compare", "r01", "r02", "--history", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "not judged" in out and "rag-service: +21.0 s" in out
    assert cli.main(["compare", "r01", "r03", "--history", str(tmp_path)]) == 1
    assert "another gate, manifest or profile" in capsys.readouterr().err


def test_the_trend_chart_is_an_inline_svg_from_matplotlib():
    from stackgate.verdict.charts import trend_svg

    svg = trend_svg("start-up", ["r1", "r2", "r3"], {"rag-service": [10.0, None, 31.0], "ollama": [8.0, 8.5, 8.2]})
    assert svg.startswith("<svg") and "rag-service" in svg and "<?xml" not in svg
    assert trend_svg("one run", ["r1"], {"x": [1.0]}) == ""


def own(n: int, total: float, own_start: float) -> Record:
    r = run(n, startup=total)
    r.own_start_s = {"rag-service": own_start}
    return r


def test_a_service_slow_on_its_own_is_a_regression_against_slow_baseline_runs():
    """Measured live: baseline runs with rag-service healthy at 33.9 s and 25.0 s from `up` (a busy machine), then
    one with it started 20 s late at 37.1 s: within 1.5 x + 5 s of `up`, but 24.2 s after its dependencies were
    healthy against 2.4 s and 3.6 s."""
    (found,) = history.compare(own(3, 37.1, 24.2), [own(1, 33.9, 2.4), own(2, 25.0, 3.6)], BOUNDS).regressions
    assert "rag-service: expected healthy, after its dependencies were, within 1.5" in found and "24.2 s" in found


def test_a_slow_machine_that_slows_every_dependency_is_no_regression():
    assert history.compare(own(3, 40.0, 3.0), [own(1, 16.0, 2.4), own(2, 17.0, 3.6)], BOUNDS).regressions == []
