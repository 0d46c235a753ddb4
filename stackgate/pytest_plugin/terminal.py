"""The terminal summary: each metric's status, and the gate's verdict with its caveat."""

from __future__ import annotations

import pytest

from stackgate.verdict.metrics import GATE_PASSED

from .history import since_lines
from .results import standin_caveat, verdict_of
from .state import state_of


def pytest_terminal_summary(terminalreporter, exitstatus: int, config: pytest.Config) -> None:  # noqa: ANN001
    state = state_of(config)
    v = verdict_of(state)
    if not any(m.results for m in v.statuses):
        return
    terminalreporter.section(f"success metrics ({v.gate} gate)")
    for m in v.statuses:
        terminalreporter.write_line(f"{m.status:<17} {m.title}  ({m.why})")
    since = since_lines(state)
    if since:
        terminalreporter.section("since the last release")
        for line in since:
            terminalreporter.write_line(line)
    if state.gate is not None:
        terminalreporter.write_line("")
        if state.facts is not None:
            terminalreporter.write_line(f"facts: {state.facts.describe()}")
        caveat = standin_caveat(state)
        terminalreporter.write_line(f"GATE {v.verdict}" + (f" ({caveat})" if caveat else "")
                                    + (": " + "; ".join(v.problems) if v.problems else ""),
                                    bold=True, red=v.verdict != GATE_PASSED, green=v.verdict == GATE_PASSED)
