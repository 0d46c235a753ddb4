"""Regressions (release gate; the smoke gate shows them): this run against the kept runs of the same gate, manifest
and profile, within the manifest's `history` bounds."""

import pytest

pytestmark = [pytest.mark.smoke, pytest.mark.metric("regressions"), pytest.mark.after_all]


def test_no_figure_regressed_past_its_bound_since_the_last_release(since_last_release):
    """Against the median of the baseline runs: no service became healthy more than the bound later, no round-trip
    step answered more than the bound slower, and no security finding is new."""
    c = since_last_release
    if not c.baseline:
        pytest.skip("no earlier run of this gate, manifest and profile in the history: nothing to compare with")
    assert not c.regressions, "\n".join(c.regressions)
