"""The isolation measurement's own parts: cpusets read as CPU sets, and the idle and loaded phases timed in
alternating blocks (each phase gets its samples, the burst runs only during loaded blocks)."""

import threading

from stackgate.evidence import isolation
from stackgate.manifest import Isolation, Request


def test_a_cpuset_string_reads_as_its_cpus():
    assert isolation.cpus_of("0") == {0}
    assert isolation.cpus_of("0,2-3") == {0, 2, 3}
    assert isolation.cpus_of("") == set()


def test_idle_and_loaded_samples_alternate_in_blocks_and_the_burst_runs_only_while_loaded(monkeypatch):
    burst_on = threading.Event()
    seen: list[str] = []
    req = Request(service="svc", method="GET", path="/x", expect=200)
    load = Request(service="vision", method="GET", path="/y", expect=200)

    class Resp:
        status_code, text = 200, ""

    def fake_send(_http, _manifest, r, _values):
        if r is req:
            seen.append("loaded" if burst_on.is_set() else "idle")
        else:
            burst_on.set()
        return Resp()

    monkeypatch.setattr(isolation, "send", fake_send)
    real_running = isolation.running

    def running(n, work, stop=None, join_s=600):
        class Ctx:
            def __enter__(self):
                self.inner = real_running(n, work, stop=stop, join_s=join_s)
                return self.inner.__enter__()

            def __exit__(self, *exc):
                out = self.inner.__exit__(*exc)
                burst_on.clear()
                return out
        return Ctx()

    monkeypatch.setattr(isolation, "running", running)
    iso = Isolation(timed=(req,), load=(load,), samples=7, workers=1)
    idle, loaded, burst = isolation.measure(lambda: _Client(), None, iso, {}, warmup_s=0.05, block=3)
    assert len(idle.latencies) == len(loaded.latencies) == 7
    assert seen[1:] == ["idle"] * 3 + ["loaded"] * 3 + ["idle"] * 3 + ["loaded"] * 3 + ["idle"] + ["loaded"]
    assert burst.sent > 0 and not burst.failures


class _Client:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def test_a_burst_that_fails_ends_the_measurement_after_its_block(monkeypatch):
    req = Request(service="svc", method="GET", path="/x", expect=200)
    load = Request(service="vision", method="GET", path="/y", expect=200)

    class Resp:
        def __init__(self, code):
            self.status_code, self.text = code, "refused"

    monkeypatch.setattr(isolation, "send", lambda _h, _m, r, _v: Resp(200 if r is req else 503))
    iso = Isolation(timed=(req,), load=(load,), samples=9, workers=1)
    idle, loaded, burst = isolation.measure(lambda: _Client(), None, iso, {}, warmup_s=0.05, block=3)
    assert burst.failures and len(idle.attempts) == len(loaded.attempts) == 3  # one block each, not 9
