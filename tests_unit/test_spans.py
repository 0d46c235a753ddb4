"""Where a session's time goes: spans recorded in the state, written relative to the session's start, and drawn."""

from __future__ import annotations

import pytest

from stackgate import manifest
from stackgate.pytest_plugin.results import spans_of
from stackgate.pytest_plugin.state import SessionState
from stackgate.verdict.charts import spans_svg


def test_spans_are_seconds_from_the_session_start_in_start_order():
    state = SessionState(manifest=manifest.load(), gate=None, session_started=100.0)
    state.finished = 160.0
    state.span("log watch after the last check", 140.0, 150.0)
    state.span("stack: up --wait (all healthy)", 101.0, 120.5)
    with pytest.raises(RuntimeError), state.timing("routing"):
        raise RuntimeError("a failing block keeps its span")
    rows = spans_of(state)
    assert [r["name"] for r in rows[:3]] == ["session (pytest start to verdict)", "stack: up --wait (all healthy)",
                                             "log watch after the last check"]
    assert rows[0] == {"name": "session (pytest start to verdict)", "start_s": 0.0, "end_s": 60.0}
    assert rows[1]["end_s"] == 20.5 and any(r["name"] == "routing" for r in rows)


def test_the_critical_path_chart_is_an_inline_svg_with_one_bar_per_span():
    svg = spans_svg("reuse smoke", [{"name": "session", "start_s": 0, "end_s": 30},
                                    {"name": "waited: test_roundtrip_step[notes-stored]", "start_s": 2, "end_s": 9}])
    assert svg.startswith("<svg") and "waited: test_roundtrip_step" in svg and "7.0 s" in svg
    assert spans_svg("nothing", []) == ""
