"""The one wait (core.wait): checked at once, then every pause, on an injected clock."""

from __future__ import annotations

from stackgate.core.wait import wait_until


def fake_clock():
    now = [0.0]
    return now, (lambda: now[0]), (lambda s: now.__setitem__(0, now[0] + s))


def test_a_check_that_never_holds_times_out_on_the_injected_clock():
    now, clock, sleep = fake_clock()
    assert wait_until(lambda: False, timeout=5, pause=1, clock=clock, sleep=sleep) is None
    assert now[0] == 5


def test_the_seconds_until_the_check_held_are_returned():
    now, clock, sleep = fake_clock()
    assert wait_until(lambda: now[0] >= 3, timeout=10, pause=1, clock=clock, sleep=sleep) == 3.0


def test_a_check_that_holds_at_once_returns_zero_not_none():
    _, clock, sleep = fake_clock()
    assert wait_until(lambda: True, timeout=0, clock=clock, sleep=sleep) == 0.0


def test_stop_ends_the_wait_early():
    now, clock, sleep = fake_clock()
    assert wait_until(lambda: False, timeout=60, pause=1, clock=clock, sleep=sleep, stop=lambda: now[0] >= 2) is None
    assert now[0] == 2
