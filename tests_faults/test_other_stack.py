"""A stack that is not ours (tests_faults/other_stack: other service names, ports and paths, a path prefix, an extra
LLM service, no frontend) passes the smoke gate through its manifest alone, run from outside the repository as an
installed suite; a fault in it is caught under the right metric and service."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]
OTHER = Path(__file__).resolve().parent / "other_stack"


def gate(cwd: Path, manifest: Path, *args: str) -> subprocess.CompletedProcess:
    """`pytest --pyargs stackgate_suite ...` as a site would run it: from its own directory, no repository conftest."""
    return subprocess.run([sys.executable, "-m", "pytest", "--pyargs", "stackgate_suite", f"--manifest={manifest}",
                           "-p", "no:cacheprovider", "-q", *args], cwd=cwd, capture_output=True, text=True, timeout=800,
                          env={**os.environ, "STACKGATE_REPORTS": str(cwd / "reports")})


@pytest.fixture
def copy(tmp_path) -> Path:
    """The other stack, copied outside the repository."""
    shutil.copytree(OTHER, tmp_path / "lab")
    return tmp_path / "lab"


def test_a_stack_that_is_not_ours_passes_the_smoke_gate_from_outside_the_repository(copy, tmp_path):
    """Every metric its gate requires is PASS (or an optional skip) with no code change."""
    res = gate(tmp_path, copy / "manifest.yaml", "-m", "smoke", "--gate", "smoke")
    summary = res.stdout[res.stdout.find("success metrics"):]
    assert res.returncode == 0 and "GATE PASSED" in res.stdout, summary[-3000:] or res.stderr[-2000:]


def test_a_fault_in_the_other_stack_is_caught_under_routing_naming_its_service(copy, tmp_path):
    """memo-api pointed at the vision engine fails the routing contract with a finding on memo-api."""
    compose = copy / "docker-compose.yml"
    doc = yaml.safe_load(compose.read_text())
    doc["services"]["memo-api"]["environment"]["OLLAMA_URL"] = "http://see-engine:11434"
    compose.write_text(yaml.safe_dump(doc, sort_keys=False))
    res = gate(tmp_path, copy / "manifest.yaml", "-k", "test_url_variables_point_at_the_right_ollama")
    assert res.returncode != 0, res.stdout[-2000:]
    assert "test_url_variables_point_at_the_right_ollama[memo-api]" in res.stdout
    assert "[Each service routed to the right Ollama] memo-api: expected OLLAMA_URL -> llm-engine" in res.stdout
