"""The reaper without Docker: the container it starts, its record file, its owner check, one reaping pass."""

from __future__ import annotations

import pytest

from stackgate.engines import reaper, reaper_agent

ANON = "a" * 64


@pytest.fixture(autouse=True)
def records(tmp_path, monkeypatch):
    monkeypatch.setattr(reaper, "RECORDS", tmp_path / "state")
    return tmp_path / "state"


def fake_stat(proc_dir, pid, state="S", start="4242", comm="python (x) y"):
    (proc_dir / str(pid)).mkdir(parents=True, exist_ok=True)
    fields = [state, *["0"] * 18, start, "0", "0"]  # fields 3..24; field 22 is the start time
    (proc_dir / str(pid) / "stat").write_text(f"{pid} ({comm}) {' '.join(fields)}\n")


def test_start_runs_a_detached_reaper_that_is_no_stack_resource(fake_runner, records, monkeypatch):
    monkeypatch.setattr(reaper_agent, "start_time", lambda pid, proc_dir="/proc": "777")
    run = fake_runner({("docker", "run"): (0, "cid123\n")})
    assert reaper.start("stackgate-11-abc123", pid=11, image="img:1", run=run) == "cid123"
    argv = run.calls[0]
    assert argv[:4] == ["docker", "run", "-d", "--rm"] and argv[argv.index("--pid") + 1] == "host"
    assert "/var/run/docker.sock:/var/run/docker.sock" in argv and f"{records}:{records}" in argv
    assert f"{reaper.AGENT}:/reaper_agent.py:ro" in argv
    assert argv[argv.index("--name") + 1] == "stackgate-reaper-stackgate-11-abc123"
    labels = [argv[i + 1] for i, a in enumerate(argv) if a == "--label"]
    assert labels == ["org.stackgate.reaper=stackgate-11-abc123"]  # never com.docker.compose.project
    image_at = argv.index("img:1")
    assert argv[image_at + 2:] == ["/reaper_agent.py", "stackgate-11-abc123", "11", "777",
                                   str(records / "stackgate-11-abc123.volumes")]
    assert (records / "stackgate-11-abc123.volumes").exists()


def test_start_fails_in_one_line_when_docker_run_fails(fake_runner, monkeypatch):
    monkeypatch.setattr(reaper_agent, "start_time", lambda pid, proc_dir="/proc": "777")
    with pytest.raises(reaper.StackStartError, match="reaper: could not start"):
        reaper.start("stackgate-11-abc123", pid=11, run=fake_runner({}))


def test_record_file_round_trip(records):
    records.mkdir()
    record = reaper.record_file("stackgate-1-aa")
    c1 = {"Mounts": [{"Type": "volume", "Name": ANON}, {"Type": "bind", "Name": ""},
                     {"Type": "volume", "Name": "stackgate-1-aa_pgdata"}]}
    assert reaper_agent.record_volumes([c1], record) == [ANON]  # named volumes go by their project label
    assert reaper_agent.record_volumes([c1, {"Mounts": [{"Type": "volume", "Name": "b" * 64}]}], record) == ["b" * 64]
    assert reaper.recorded_volumes("stackgate-1-aa") == [ANON, "b" * 64]
    assert reaper.recorded_volumes("stackgate-2-bb") == []


def test_stop_removes_the_reaper_then_the_recorded_volumes(fake_runner, records):
    records.mkdir()
    reaper.record_file("stackgate-1-aa").write_text(f"{ANON}\n")
    run = fake_runner({("docker",): (0, "")})
    reaper.stop("stackgate-1-aa", run=run)
    assert run.calls == [["docker", "rm", "-f", "stackgate-reaper-stackgate-1-aa"], ["docker", "volume", "rm", "-f", ANON]]
    assert not reaper.record_file("stackgate-1-aa").exists()


def test_owner_is_alive_only_with_its_pid_and_start_time(tmp_path):
    fake_stat(tmp_path, 100, start="5000")
    fake_stat(tmp_path, 101, state="Z", start="6000")
    assert reaper_agent.start_time(100, str(tmp_path)) == "5000"
    assert reaper_agent.owner_alive(100, "5000", str(tmp_path))
    assert not reaper_agent.owner_alive(100, "4999", str(tmp_path))  # the pid was reused
    assert not reaper_agent.owner_alive(101, "6000", str(tmp_path))  # killed, not yet waited for
    assert not reaper_agent.owner_alive(102, "5000", str(tmp_path))  # gone


def test_orphans_are_reapers_and_records_of_dead_owners(fake_runner, records):
    records.mkdir()
    for name in ("stackgate-1-aa", "stackgate-2-bb", "other"):
        reaper.record_file(name).touch()
    run = fake_runner({("docker", "ps"): (0, "stackgate-3-cc\nstackgate-2-bb\n")})
    assert reaper.orphans(run=run, alive=lambda pid: pid == 2) == ["stackgate-1-aa", "stackgate-3-cc"]
    assert reaper.orphans(run=run, alive=lambda pid: True, only_dead=False) == ["stackgate-1-aa", "stackgate-2-bb",
                                                                               "stackgate-3-cc"]


def test_a_reaping_pass_removes_containers_networks_then_labelled_and_recorded_volumes(tmp_path):
    record = tmp_path / "p.volumes"
    record.write_text("c" * 64 + "\n")
    answers = {
        ("GET", "/containers/json"): [{"Id": "c1", "Names": ["/x"], "Mounts": [{"Type": "volume", "Name": ANON}]}],
        ("GET", "/networks"): [{"Id": "n1", "Name": "p_default"}],
        ("GET", "/volumes"): {"Volumes": [{"Name": "p_data"}]},
    }
    calls = []

    def call(method, path):
        calls.append((method, path.split("?")[0]))
        return (200, answers[(method, path.split("?")[0])]) if method == "GET" else (204, None)

    assert reaper_agent.reap_pass("p", record, call, log=lambda _: None) == 5
    deletes = [p for m, p in calls if m == "DELETE"]
    assert deletes == ["/containers/c1", "/networks/n1", "/volumes/p_data", "/volumes/" + "c" * 64, "/volumes/" + ANON]
    assert reaper_agent.recorded(record) == ["c" * 64, ANON]


def test_reaping_stops_after_two_quiet_passes_and_drops_the_record(tmp_path):
    record = tmp_path / "p.volumes"
    record.write_text("")
    calls = []

    def call(method, path):
        calls.append(method)
        return (200, {"Volumes": None} if path.startswith("/volumes") else [])

    assert reaper_agent.reap("p", record, call, every_s=0, log=lambda _: None)
    assert calls.count("GET") == 6 and not record.exists()
