"""`stackgate init`: a manifest generated from compose files (kinds, routes, models, each line's source), its drift
check, and bad input answered with one line and nothing written."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from stackgate.cli import main
from stackgate.manifest import load

ROOT = Path(__file__).resolve().parents[1]
STACK = ROOT / "stack"


@pytest.fixture
def site(tmp_path):
    """A copy of the stack's files a test may edit."""
    dst = tmp_path / "stack"
    shutil.copytree(STACK, dst, ignore=shutil.ignore_patterns("airgap", "services"))
    return dst


def generate(site: Path, out: Path, *extra: str) -> int:
    return main(["init", "-f", str(site / "docker-compose-separated.yml"), "--simple",
                 str(site / "docker-compose-simple.yml"), "-o", str(out), *extra])


def test_init_infers_kinds_routes_and_models_with_their_sources(site, tmp_path):
    out = tmp_path / "manifest.yaml"
    assert generate(site, out) == 0
    m = load(out)
    assert {n for n, s in m.services.items() if s.kind == "ollama"} == {"ollama", "ollama-vision"}
    assert {n for n, s in m.services.items() if s.kind == "store"} == {"postgres", "redis", "chromadb", "neo4j"}
    assert m.services["doc-processor"].routes == {"OLLAMA_URL": "ollama", "VISION_OLLAMA_URL": "ollama-vision"}
    assert m.services["doc-processor"].models == {"LLM_MODEL": "OLLAMA_URL", "VISION_MODEL": "VISION_OLLAMA_URL"}
    assert m.ollamas["ollama-vision"].models == ("llava:7b", "nomic-embed-text:latest")
    assert m.rollback_ollama == "ollama" and len(m.rollback_models) == 4
    text = out.read_text()
    assert "# from OLLAMA_URL in rag-service's environment" in text
    assert "# probe: TO FILL IN" in text and "# roundtrips: TO FILL IN" in text


def test_init_check_reports_a_service_added_and_a_route_changed(site, tmp_path, capsys):
    out = tmp_path / "manifest.yaml"
    assert generate(site, out) == 0
    doc = yaml.safe_load((site / "docker-compose-separated.yml").read_text())
    doc["services"]["extra-service"] = {"image": "redis:7.4.1"}
    doc["services"]["rag-service"]["environment"]["OLLAMA_URL"] = "http://ollama-vision:11434"
    (site / "docker-compose-separated.yml").write_text(yaml.safe_dump(doc))
    assert main(["init", "-f", str(site / "docker-compose-separated.yml"), "--check", str(out)]) == 1
    said = capsys.readouterr().out
    assert "drift: service extra-service is in the compose files but not in the manifest (kind store)" in said
    assert ("drift: routes of rag-service: {'OLLAMA_URL': 'ollama'} in the manifest, {'OLLAMA_URL': 'ollama-vision'} "
            "in the compose files") in said


def test_init_check_of_an_unchanged_stack_finds_no_drift(site, tmp_path, capsys):
    out = tmp_path / "manifest.yaml"
    assert generate(site, out) == 0
    assert main(["init", "-f", str(site / "docker-compose-separated.yml"), "--check", str(out)]) == 0


def test_a_compose_file_that_does_not_parse_is_one_line_and_writes_nothing(tmp_path):
    bad = tmp_path / "docker-compose.yml"
    bad.write_text("services:\n  a: [unclosed\n")
    out = tmp_path / "manifest.yaml"
    res = subprocess.run([sys.executable, "-m", "stackgate", "init", "-f", str(bad), "-o", str(out)],
                         capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert res.returncode != 0 and len(res.stderr.strip().splitlines()) == 1, res.stderr
    assert not out.exists() and sorted(p.name for p in tmp_path.iterdir()) == ["docker-compose.yml"]


def test_a_running_project_that_does_not_exist_is_one_line_and_writes_nothing(site, tmp_path):
    out = tmp_path / "manifest.yaml"
    res = subprocess.run([sys.executable, "-m", "stackgate", "init", "-f", str(site / "docker-compose-separated.yml"),
                          "--running", "no-such-project-xyz", "-o", str(out)],
                         capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert res.returncode != 0 and len(res.stderr.strip().splitlines()) == 1, res.stderr
    assert "no-such-project-xyz" in res.stderr and not out.exists()


SHAPE = """
services:
  textgen:
    image: vllm/vllm-openai:v0.6.3.post1
    command: ["--model", "x/y", "--served-model-name", "llama3.2:latest", "--port", "8000"]
  pixels:
    image: ollama/ollama:0.9.0
    environment: {MODELS: "llava:7b llama3.2:latest"}
    volumes: ["pix:/root/.ollama"]
  writer:
    image: example/writer:1.0
    environment: {GENERATOR_ENDPOINT: "http://textgen:8000/v1", WRITER_MODEL: "llama3.2:latest",
                  PIXEL_SERVER: "http://pixels:11434", EXTERNAL_LLM: "http://llm.example.com:11434"}
    ports: ["127.0.0.1:9000:9000"]
    healthcheck: {test: ["CMD", "curl", "-f", "http://127.0.0.1:9000/healthz"]}
volumes: {pix: {}}
"""


def test_routes_come_from_url_values_whatever_the_variable_names_and_doubts_are_questions(tmp_path):
    from stackgate.evidence.composefile import load_config
    from stackgate.init.infer import infer

    (tmp_path / "compose.yml").write_text(SHAPE)
    inf = infer(load_config([tmp_path / "compose.yml"], tmp_path))
    writer = inf.services["writer"]
    assert {v: f.value for v, f in writer.routes.items()} == {"GENERATOR_ENDPOINT": "textgen", "PIXEL_SERVER": "pixels"}
    assert writer.health.value == "/healthz" and inf.services["textgen"].kind == "openai"
    assert any("EXTERNAL_LLM" in q and "outside the compose project" in q for q in inf.questions)
    assert any("llama3.2:latest is held by" in q for q in inf.questions)           # two servers, one model
    assert any("WRITER_MODEL=llama3.2:latest is held by more than one" in q for q in inf.questions)


@pytest.mark.parametrize("compose,manifest", [("stack/docker-compose-separated.yml", "stack/manifest.yaml"),
                                              ("tests_faults/other_stack/docker-compose.yml",
                                               "tests_faults/other_stack/manifest.yaml")])
def test_our_hand_written_manifests_have_not_drifted_from_their_compose_files(compose, manifest):
    """`init --check` as a CI step: the services, kinds, ports, routes and models of our manifests are those of
    their compose files."""
    assert main(["init", "-f", str(ROOT / compose), "--check", str(ROOT / manifest)]) == 0
