"""Document processing and LLM queries, as the manifest's round-trips declare them: each step of each chain is
one test (its title is the requirement), under its round-trip's metric; the chains run concurrently."""

import pytest

pytestmark = [pytest.mark.smoke]


def test_roundtrip_step(roundtrip_step, chains, manifest):
    """The step's request is answered as declared and every check of the step holds."""
    name, kind, step = roundtrip_step
    result = chains[(name, kind)][step]
    assert result.ok, "\n".join(result.problems)
