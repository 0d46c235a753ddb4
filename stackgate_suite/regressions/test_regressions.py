"""Regressions (release gate; the smoke gate shows them): this run against the kept runs of the same gate, manifest
and profile, within the manifest's `history` bounds."""

import pytest

pytestmark = [pytest.mark.smoke, pytest.mark.metric("regressions"), pytest.mark.after_all]


def test_no_figure_regressed_past_its_bound_since_the_last_release(since_last_release, gate_state):
    """Against the median of the baseline runs: no service became healthy more than the bound later, no round-trip
    step answered more than the bound slower, and no security finding is new."""
    c = since_last_release
    gate = gate_state.gate
    if gate is None or "regressions" not in gate.metrics:
        pytest.skip(f"the {gate.name if gate else 'selected'} gate does not judge regressions: they are shown under "
                    f"'Since the last release' ({len(c.regressions)} found)")
    if not c.baseline:
        pytest.skip("no earlier run of this gate, manifest and profile in the history: nothing to compare with")
    if c.not_judged:
        pytest.skip(c.not_judged)
    assert not c.regressions, "\n".join(c.regressions)
