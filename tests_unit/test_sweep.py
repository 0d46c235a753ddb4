"""The label sweep: only stackgate projects, only dead owners unless asked for all."""

from __future__ import annotations

from stackgate.engines import identity, reaper_agent, sweep


def listing(fake_runner):
    return fake_runner({
        ("docker", "ps"): (0, "c1\tstackgate-111-aa\nc2\tother-project\nc3\tstackgate-222-bb\n"),
        ("docker", "network", "ls"): (0, "n1\tstackgate-111-aa\n"),
        ("docker", "volume", "ls"): (0, "v1\tstackgate-111-aa\nv2\tmyapp\n"),
    })


def test_project_names_carry_the_owner_pid():
    name = identity.new_project_name(pid=4242)
    assert name.startswith("stackgate-4242-") and identity.owner_pid(name) == 4242
    assert identity.owner_pid("other-4242") is None


def test_only_stackgate_resources_are_listed(fake_runner):
    found = sweep.list_resources(listing(fake_runner))
    assert {r.project for r in found} == {"stackgate-111-aa", "stackgate-222-bb"}
    assert {r.id for r in found} == {"c1", "c3", "n1", "v1"}


def test_orphans_are_those_whose_owner_is_gone(fake_runner):
    found = sweep.list_resources(listing(fake_runner))
    orphans = sweep.select(found, only_orphans=True, alive=lambda pid: pid == 222)
    assert {r.id for r in orphans} == {"c1", "n1", "v1"}


def test_sweep_removes_containers_before_networks_and_volumes(fake_runner):
    run = listing(fake_runner)
    swept = sweep.sweep(only_orphans=False, log=lambda _: None, run=run, alive=lambda pid: True)
    assert swept == ["stackgate-111-aa", "stackgate-222-bb"]
    removals = [c for c in run.calls if c[1] in ("rm", "network", "volume") and ("rm" in c)]
    assert removals[0][:3] == ["docker", "rm", "-f"] and removals[-1][:3] == ["docker", "volume", "rm"]
    assert "c2" not in sum(removals, []) and "v2" not in sum(removals, [])


def test_compose_commands_of_a_dead_run_are_found_by_project(tmp_path, monkeypatch):
    killed = []
    monkeypatch.setattr(reaper_agent.os, "kill", lambda pid, sig: killed.append(pid))
    for pid, argv in ((101, ["docker", "compose", "-f", "x.yml", "-p", "stackgate-1-aa", "up"]),
                      (102, ["docker", "compose", "-p", "other", "up"]), (103, ["python", "stackgate-1-aa"])):
        (tmp_path / str(pid)).mkdir()
        (tmp_path / str(pid) / "cmdline").write_bytes("\0".join(argv).encode() + b"\0")
    assert sweep.kill_compose_processes({"stackgate-1-aa"}, proc_dir=str(tmp_path)) == [101] == killed
