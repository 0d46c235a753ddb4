"""The manifest loads, and a bad one is a one-line error naming what is wrong."""

from __future__ import annotations

import pytest
import yaml

from stackgate import manifest
from stackgate.core.errors import ManifestError


def write(tmp_path, data) -> str:
    path = tmp_path / "manifest.yaml"
    path.write_text(data if isinstance(data, str) else yaml.safe_dump(data))
    return str(path)


def real() -> dict:
    return yaml.safe_load(manifest.DEFAULT_PATH.read_text())


def test_the_shipped_manifest_describes_13_services_and_two_ollamas():
    m = manifest.load()
    assert len(m.services) == 13 and set(m.ollamas) == {"ollama", "ollama-vision"}
    assert m.services["ocr-service"].routes == {"VISION_OLLAMA_URL": "ollama-vision"}
    assert m.url("ollama-vision").endswith(":11435")


@pytest.mark.parametrize("text,needle", [("{", "not valid YAML"), ("- a\n- b\n", "must be a mapping")])
def test_malformed_yaml_is_a_one_line_error(tmp_path, text, needle):
    with pytest.raises(ManifestError, match=needle) as exc:
        manifest.load(write(tmp_path, text))
    assert "\n" not in str(exc.value)


def test_a_route_to_an_unknown_ollama_is_refused(tmp_path):
    data = real()
    data["services"]["ocr-service"]["routes"] = {"VISION_OLLAMA_URL": "ollama-visoin"}
    with pytest.raises(ManifestError, match="ocr-service.routes.VISION_OLLAMA_URL names 'ollama-visoin'"):
        manifest.load(write(tmp_path, data))


def test_a_model_variable_without_its_route_is_refused(tmp_path):
    data = real()
    data["services"]["doc-processor"]["models"]["LLM_MODEL"] = "LLM_URL"
    with pytest.raises(ManifestError, match="doc-processor.models.LLM_MODEL"):
        manifest.load(write(tmp_path, data))


def test_a_missing_section_is_named(tmp_path):
    data = real()
    del data["services"]
    with pytest.raises(ManifestError, match="'services' is a required property"):
        manifest.load(write(tmp_path, data))


def test_a_bad_probe_is_one_line_naming_its_key(tmp_path):
    data = real()
    data["services"]["notes-service"]["probe"][0]["expect"] = "created"
    with pytest.raises(ManifestError, match=r"services.notes-service.probe\[0\].expect: 'created' is not of type") as exc:
        manifest.load(write(tmp_path, data))
    assert "\n" not in str(exc.value)


def test_an_app_without_a_probe_loads_and_its_routing_is_left_to_declare(tmp_path):
    """A probe is optional (a generated manifest has none yet): the routing test then skips naming what to declare."""
    data = real()
    del data["services"]["ocr-service"]["probe"]
    assert manifest.load(write(tmp_path, data)).services["ocr-service"].probe == ()


def test_a_step_naming_an_unknown_service_is_refused(tmp_path):
    data = real()
    data["roundtrips"]["rag"]["steps"][-1]["service"] = "rag-servcie"
    with pytest.raises(ManifestError, match="roundtrips.rag.steps.answer-stream.service names 'rag-servcie'"):
        manifest.load(write(tmp_path, data))


def test_an_invalid_log_regex_is_named(tmp_path):
    data = real()
    data["logs"]["allow"] = ["(unclosed"]
    with pytest.raises(ManifestError, match="logs.allow is not a valid regex"):
        manifest.load(write(tmp_path, data))


def test_a_missing_file_is_named(tmp_path):
    with pytest.raises(ManifestError, match="does not exist"):
        manifest.load(tmp_path / "nope.yaml")


def test_error_lines_follow_the_pattern_and_the_allowlist(tmp_path):
    data = real()
    data["logs"]["allow"] = ["known harmless"]
    m = manifest.load(write(tmp_path, data))
    assert m.is_error_line("2026 ERROR something broke")
    assert m.is_error_line('time=x level=ERROR source=a msg="b"')
    assert not m.is_error_line("ERROR known harmless thing")
    assert not m.is_error_line('[GIN] 2025/03/08 - 21:33:37 | 404 |  1ms |  127.0.0.1 | POST     "/api/generate"')
    assert not m.is_error_line("errors=0 processed")


def test_the_shipped_gates_require_the_seeds_metrics_and_release_adds_rollback_resilience_isolation_regressions():
    m = manifest.load()
    assert {"ollamas-healthy", "services-running", "logs-clean", "health-endpoints", "document-processing",
            "llm-queries", "frontend-loads", "ollama-api", "routing", "models"} <= set(m.gates["smoke"].metrics)
    assert set(m.gates["release"].metrics) == {*m.gates["smoke"].metrics, "rollback", "resilience", "isolation",
                                               "regressions"}
    assert m.gates["release"].watch_logs_s >= 60


def test_a_gate_naming_an_unknown_metric_is_refused(tmp_path):
    data = real()
    data["gates"]["smoke"]["metrics"].append("vibes")
    with pytest.raises(ManifestError, match="gates.smoke.metrics names unknown metric"):
        manifest.load(write(tmp_path, data))


def test_an_optional_skip_without_a_reason_why_is_refused(tmp_path):
    data = real()
    data["optional_skips"][0]["why"] = " "
    with pytest.raises(ManifestError, match=r"optional_skips\[0\].why must say why"):
        manifest.load(write(tmp_path, data))


def test_the_expected_start_up_times_follow_the_seeds_timeline():
    m = manifest.load()
    assert m.expected_healthy_s("ollama", first_run=True) == 480
    assert m.expected_healthy_s("ollama-vision", first_run=True) == 900
    assert m.expected_healthy_s("ollama", first_run=False) == 30
    assert m.expected_healthy_s("frontend", first_run=False) == 60


def test_the_simple_rollback_target_is_one_ollama_serving_every_model_that_every_route_points_at():
    target = manifest.rollback_target(manifest.load())
    assert target.label == "simple" and list(target.manifest.ollamas) == ["ollama"]
    assert set(target.manifest.ollamas["ollama"].models) == {"llama3.2:latest", "llama2:7b", "llava:7b",
                                                             "nomic-embed-text:latest"}
    assert target.manifest.services["doc-processor"].routes == {"VISION_OLLAMA_URL": "ollama", "OLLAMA_URL": "ollama"}
    assert "ollama-vision" not in target.manifest.services


def test_the_vllm_layout_rolls_back_to_the_separated_deployment_judged_by_its_own_manifest():
    target = manifest.rollback_target(manifest.load(manifest.DEFAULT_PATH.parent / "manifest-vllm.yaml"))
    assert target.label == "separated (manifest.yaml)" and set(target.manifest.ollamas) == {"ollama", "ollama-vision"}
    assert target.manifest.services["notes-service"].routes == {"OLLAMA_URL": "ollama"}


def test_a_rollback_manifest_that_is_not_a_file_is_refused(tmp_path):
    data = real()
    data["rollback"] = {"manifest": "nowhere.yaml", "keeps": ["notes"]}
    with pytest.raises(ManifestError, match="rollback.manifest names nowhere.yaml"):
        manifest.load(write(tmp_path, data))


def test_a_rollback_with_both_a_manifest_and_a_single_ollama_is_refused(tmp_path):
    data = real()
    data["rollback"]["manifest"] = "manifest.yaml"
    with pytest.raises(ManifestError, match="rollback"):
        manifest.load(write(tmp_path, data))


def test_a_misspelt_top_level_key_is_named_with_the_key_it_may_mean(tmp_path):
    data = real()
    data["servces"] = data.pop("services")
    with pytest.raises(ManifestError) as err:
        manifest.load(write(tmp_path, data))
    assert str(err.value).endswith("unknown key 'servces' at the top level; did you mean 'services'?")
    assert "\n" not in str(err.value)


def test_a_misspelt_nested_key_is_named_where_it_is(tmp_path):
    data = real()
    data["ollamas"]["ollama"]["prot"] = data["ollamas"]["ollama"].pop("port")
    with pytest.raises(ManifestError, match=r"unknown key 'prot' in ollamas\.ollama; did you mean 'port'\?"):
        manifest.load(write(tmp_path, data))
