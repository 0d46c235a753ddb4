"""The swarm engine: the scaled stack file swarm accepts, the manifest's scale section, the engine's state."""

from __future__ import annotations

import json

import pytest
import yaml

from stackgate import manifest
from stackgate.core.errors import ManifestError
from stackgate.engines import swarm

from .conftest import FakeRunner


@pytest.fixture(scope="module")
def rendered():
    return swarm.render(manifest.load(), ["airgap"])


def test_each_ollama_runs_replicas_reached_by_dns_round_robin(rendered):
    for name in ("ollama", "ollama-vision"):
        deploy = rendered.doc["services"][name]["deploy"]
        assert deploy["replicas"] == 2 and deploy["endpoint_mode"] == "dnsrr"
        assert {"restart_policy", "update_config", "resources"} <= set(deploy)


def test_each_replica_gets_a_model_volume_of_its_own_task_slot(rendered):
    assert rendered.doc["volumes"]["ollama_llm_models"]["name"] == "{{.Service.Name}}-models-{{.Task.Slot}}"
    assert rendered.doc["volumes"]["ollama_vision_models"]["name"] == "{{.Service.Name}}-models-{{.Task.Slot}}"


def test_published_ports_bind_on_the_node_and_replicated_ollamas_publish_none(rendered):
    services = rendered.doc["services"]
    assert "ports" not in services["ollama"] or services["ollama"]["ports"] == []
    assert services["rag-service"]["ports"] == [{"target": 8102, "published": 8102, "protocol": "tcp", "mode": "host"}]


def test_keys_swarm_does_not_take_are_dropped_and_named(rendered):
    for name, svc in rendered.doc["services"].items():
        assert not set(svc) & set(swarm.UNSUPPORTED), name
    assert "cpuset" in rendered.dropped["ollama"] and "depends_on" in rendered.dropped["notes-service"]
    assert rendered.depends["notes-service"] == ["ollama", "postgres"]


def test_the_network_is_an_attachable_overlay(rendered):
    assert rendered.doc["networks"]["rma-network"] == {"driver": "overlay", "attachable": True}


def test_docker_stack_config_accepts_the_rendered_file(rendered, tmp_path):
    path = tmp_path / "stack.yml"
    path.write_text(yaml.safe_dump(rendered.doc))
    swarm.check_stack_file(path)  # raises a one-line StackStartError otherwise


def test_a_file_swarm_rejects_is_a_one_line_error(rendered, tmp_path):
    path = tmp_path / "stack.yml"
    doc = json.loads(json.dumps(rendered.doc))
    doc["services"]["ollama"]["pull_policy"] = "never"
    path.write_text(yaml.safe_dump(doc))
    with pytest.raises(swarm.StackStartError, match="not valid for swarm") as exc:
        swarm.check_stack_file(path)
    assert "\n" not in str(exc.value)


def _with_scale(tmp_path, scale: dict) -> str:
    data = yaml.safe_load(manifest.DEFAULT_PATH.read_text())
    data["compose"]["project_dir"] = str(manifest.DEFAULT_PATH.resolve().parent)
    data["scale"] = {**data["scale"], **scale}
    path = tmp_path / "manifest.yaml"
    path.write_text(yaml.safe_dump(data))
    return str(path)


def test_the_scale_section_names_only_ollamas(tmp_path):
    with pytest.raises(ManifestError, match="scale names 'ollama-visoin'"):
        manifest.load(_with_scale(tmp_path, {"replicas": {"ollama-visoin": 2}}))


def test_every_scaled_ollama_needs_a_request_that_drives_it(tmp_path):
    m = manifest.load(_with_scale(tmp_path, {}))
    drive = {"ollama": {"service": "ner-graph-service", "method": "POST", "path": "/extract"}}
    with pytest.raises(ManifestError, match="scale.drive needs a request for ollama-vision"):
        manifest.load(_with_scale(tmp_path, {"drive": drive}))
    assert m.scale.replicas == {"ollama": 2, "ollama-vision": 2}


def test_a_missing_scale_file_is_a_one_line_error(tmp_path):
    m = manifest.load(_with_scale(tmp_path, {"file": "nope.yml"}))
    with pytest.raises(swarm.StackStartError, match="scale file .*nope.yml cannot be read") as exc:
        swarm.render(m, ["airgap"])
    assert "\n" not in str(exc.value)


def test_leaving_restores_an_engine_that_was_not_in_a_swarm(tmp_path, monkeypatch):
    monkeypatch.setattr(swarm, "STATE_DIR", tmp_path)
    run = FakeRunner({("docker", "info"): (0, "inactive\n"), ("docker", "network", "inspect"): (1, ""),
                      ("docker", "swarm", "init"): (0, ""), ("docker", "swarm", "leave"): (0, ""),
                      ("docker", "network", "rm"): (0, "")})
    eng = swarm.SwarmEngine(run)
    eng.enter(log=lambda _m: None)
    assert eng.initialised and list(tmp_path.glob("init-*.json"))
    run.table[("docker", "network", "inspect")] = (0, "")  # `swarm init` made the bridge network
    eng.leave(log=lambda _m: None)
    assert ["docker", "swarm", "leave", "--force"] in run.calls
    assert ["docker", "network", "rm", swarm.GWBRIDGE] in run.calls
    assert not list(tmp_path.glob("init-*.json"))


def test_an_engine_already_in_a_swarm_is_left_in_it(tmp_path, monkeypatch):
    monkeypatch.setattr(swarm, "STATE_DIR", tmp_path)
    run = FakeRunner({("docker", "info"): (0, "active\n")})
    eng = swarm.SwarmEngine(run)
    eng.enter(log=lambda _m: None)
    eng.leave(log=lambda _m: None)
    assert not any(c[:2] == ["docker", "swarm"] for c in run.calls)


def test_a_dead_runs_swarm_is_left_by_the_next_sweep(tmp_path, monkeypatch):
    monkeypatch.setattr(swarm, "STATE_DIR", tmp_path)
    (tmp_path / "init-999999.json").write_text(json.dumps({"pid": 999999, "gwbridge_before": True}))
    run = FakeRunner({("docker", "info"): (0, "active\n"), ("docker", "stack", "ls"): (0, "stackgate-999999-abc\nother\n"),
                      ("docker", "ps"): (0, ""), ("docker", "network"): (0, ""), ("docker", "volume"): (0, ""),
                      ("docker", "stack", "rm"): (0, ""), ("docker", "swarm", "leave"): (0, "")})
    swept = swarm.sweep_swarm(log=lambda _m: None, run=run, alive=lambda pid: pid != 999999)
    assert swept == ["stackgate-999999-abc"]
    assert ["docker", "stack", "rm", "stackgate-999999-abc"] in run.calls
    assert ["docker", "swarm", "leave", "--force"] in run.calls
    assert not any(c[:3] == ["docker", "network", "rm"] for c in run.calls)  # the bridge was there before


class _Task:
    def __init__(self, name: str) -> None:
        self.labels = {swarm.TASK_LABEL: name}


def test_a_replicas_slot_is_read_from_its_task_name():
    assert swarm.slot_of(_Task("stackgate-1-abc_ollama.2.k3j4h5g6f7d8s9a0")) == 2
    assert swarm.slot_of(_Task("")) == 0


def test_only_work_requests_from_the_driving_service_count_for_a_replica():
    from stackgate.evidence.replicas import work_per_replica

    line = '[GIN] 2026/11/28 - 21:33:37 | 200 |  1.2s |  {ip} | {method}     "{path}"'
    logs = {1: [line.format(ip="10.0.1.5", method="POST", path="/api/chat"),
                line.format(ip="10.0.1.9", method="POST", path="/api/chat"),     # another service
                line.format(ip="10.0.1.5", method="GET", path="/api/tags")],     # a health probe
            2: [line.format(ip="10.0.1.5", method="POST", path="/api/generate")] * 3}
    assert work_per_replica(logs, {"10.0.1.5"}) == {1: 1, 2: 3}


def test_a_burst_sends_every_request_numbered_and_calls_during_once_a_quarter_in():
    import httpx

    from stackgate.evidence.replicas import send_burst
    from stackgate.manifest import Request

    seen, calls = [], []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(json.loads(request.content)["id"])
        return httpx.Response(201 if len(seen) % 5 else 502, json={})

    req = Request.parse({"service": "notes-service", "method": "POST", "path": "/notes", "expect": 201,
                         "json": {"id": "n-{seq}"}})
    out = send_burst(lambda: httpx.Client(transport=httpx.MockTransport(answer)), manifest.load(), req, {},
                     n=20, workers=3, during=calls.append)
    assert sorted(seen) == sorted(f"n-{i}" for i in range(20))
    assert (out.sent, out.ok, len(out.failures)) == (20, 16, 4)
    assert len(calls) == 1 and calls[0] >= 5
