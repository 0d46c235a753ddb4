"""The gate proves itself: every fault of the catalogue is caught by the test that names it, with a
message naming the right metric and service, and a clean stack raises no false alarm."""

import json

import pytest
from catalogue import CATALOGUE

from stackgate.core.paths import reports_dir
from stackgate.faults import CLEAN_GROUPS, html_table, run_catalogue
from stackgate.pytest_plugin import live_log

pytestmark = [pytest.mark.slow, pytest.mark.timeout(3000)]


@pytest.fixture(scope="session")
def verdicts(stack_profiles, pytestconfig):
    """Run the whole catalogue once; write reports/faults.html and reports/faults.json."""
    results = run_catalogue(CATALOGUE, stack_profiles, log=live_log(pytestconfig))
    REPORTS = reports_dir()
    REPORTS.mkdir(exist_ok=True)
    (REPORTS / "faults.html").write_text(html_table(results))
    (REPORTS / "faults.json").write_text(json.dumps(
        [{"fault": v.fault.id if v.fault else None, "group": v.group, "caught": v.caught,
          "problems": v.problems, "seconds": v.seconds} for v in results], indent=2))
    return results


@pytest.mark.parametrize("fault", CATALOGUE, ids=[f.id for f in CATALOGUE])
def test_fault_is_caught_by_the_test_that_names_it(fault, verdicts):
    """The broken stack fails exactly the expected test(s), naming the metric and the service."""
    (v,) = [v for v in verdicts if v.fault is fault]
    assert v.caught, f"fault {fault.id} ({fault.description}): " + "; ".join(v.problems)


@pytest.mark.parametrize("group", CLEAN_GROUPS)
def test_a_clean_stack_raises_no_false_alarm(group, verdicts):
    """With no fault applied, nothing fails (static contract and the live smoke suite)."""
    (v,) = [v for v in verdicts if v.group == group]
    assert v.caught, f"false alarm on a clean stack ({group}): " + "; ".join(v.problems)
