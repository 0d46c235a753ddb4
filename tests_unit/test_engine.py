"""Engine detection and setup decisions (no Docker needed)."""

from __future__ import annotations

import pytest

from stackgate.core.errors import EngineError
from stackgate.machine import dockerd as engine


def state(**kw) -> engine.EngineState:
    base = dict(running=False, has_dockerd=False, is_root=True, is_debian=True)
    return engine.EngineState(**{**base, **kw})


def test_a_running_engine_is_left_alone():
    assert engine.plan(state(running=True, is_root=False)) == "leave"


def test_an_installed_but_stopped_engine_is_started():
    assert engine.plan(state(has_dockerd=True)) == "start"


def test_no_engine_on_debian_as_root_is_installed():
    assert engine.plan(state()) == "install"


def test_no_engine_without_root_is_a_one_line_error():
    with pytest.raises(EngineError) as exc:
        engine.plan(state(is_root=False))
    assert "\n" not in str(exc.value) and "root" in str(exc.value)


def test_no_engine_off_debian_is_a_one_line_error():
    with pytest.raises(EngineError, match="not Debian"):
        engine.plan(state(is_debian=False))


def test_ensure_engine_with_running_engine_runs_no_install(fake_runner):
    run = fake_runner({})
    logs: list[str] = []
    assert engine.ensure_engine(log=logs.append, run=run, state=state(running=True)) == "leave"
    assert run.calls == [] and "left alone" in logs[0]


def test_failed_install_names_the_command(fake_runner):
    run = fake_runner({("apt-get", "update"): (0, ""), ("apt-get", "install"): (100, "")})
    with pytest.raises(EngineError, match="apt-get install"):
        engine.ensure_engine(log=lambda _: None, run=run, state=state())


def test_wait_until_uses_the_injected_clock():
    now = [0.0]
    assert not engine.wait_until(lambda: False, timeout=5, pause=1,
                                 clock=lambda: now[0], sleep=lambda s: now.__setitem__(0, now[0] + s))
    assert now[0] == 5


def test_gpu_is_detected_from_nvidia_runtime_or_cdi_devices():
    assert engine.gpu_available({"Runtimes": {"runc": {}, "nvidia": {}}})
    assert engine.gpu_available({"DiscoveredDevices": [{"Source": "cdi", "ID": "nvidia.com/gpu=0"}]})
    assert not engine.gpu_available({"Runtimes": {"runc": {}}})


def test_compose_plugin_present_is_left_alone(fake_runner, tmp_path):
    run = fake_runner({("docker", "compose", "version"): (0, "v2")})
    engine.ensure_compose_plugin(log=lambda _: None, run=run, home=tmp_path)
    assert not (tmp_path / ".docker").exists()


def test_compose_plugin_replaces_the_exit_swallowing_wrapper(fake_runner, tmp_path):
    wrapper = tmp_path / "venv-bin-docker-compose"
    wrapper.write_text("#!/venv/bin/python3\nimport sys\nfrom compose import docker_compose\n")
    plugin = tmp_path / ".docker" / "cli-plugins" / "docker-compose"
    plugin.parent.mkdir(parents=True)
    plugin.symlink_to(wrapper)
    binary = tmp_path / "compose-binary"
    binary.write_bytes(b"\x7fELF")
    run = fake_runner({("docker", "compose", "version"): (0, "v2")})
    target = engine.ensure_compose_plugin(log=lambda _: None, run=run, home=tmp_path, source=binary)
    assert target.resolve() == binary.resolve()


def test_compose_plugin_is_linked_when_none_answers(fake_runner, tmp_path):
    binary = tmp_path / "compose-binary"
    binary.write_bytes(b"\x7fELF")
    target = engine.ensure_compose_plugin(log=lambda _: None, run=fake_runner({}), home=tmp_path, source=binary)
    assert target.is_symlink() and target.resolve() == binary.resolve()


def test_a_compose_that_exits_0_on_failure_is_refused(fake_runner):
    with pytest.raises(EngineError, match="exits 0 on a failing command"):
        engine.check_compose_exit_status(fake_runner({("docker", "compose"): (0, "")}))
    engine.check_compose_exit_status(fake_runner({("docker", "compose"): (15, "")}))
