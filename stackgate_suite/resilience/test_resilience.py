"""Resilience (release gate): the stack rides out what production will do to it. An Ollama restarted while its
registry is unreachable comes back with its models; a data store restarted under the services is reconnected
to with the data intact; a paused Ollama makes its services answer a clear JSON 5xx within their own timeout; a
crashed Ollama or app (SIGKILL) is brought back by the engine's restart policy, healthy, its dependents working."""

import os
import signal
import time

import pytest

from stackgate.core.metrics import finding
from stackgate.core.wait import wait_until
from stackgate.evidence.ollama import model_names, normalise
from stackgate.evidence.recovery import broken, fire, until_all_work, works
from stackgate.evidence.roundtrip import still_answerable

pytestmark = [pytest.mark.resilience, pytest.mark.metric("resilience"), pytest.mark.slow]
REGISTRY_DOWN = {"STACKGATE_REGISTRY": "unreachable"}  # the airgap profile's switch (stand-in Ollama)


def routed_to(manifest, ollama: str) -> list[str]:
    return [s.name for s in manifest.apps() if ollama in s.routes.values()]


def dependents(stack, manifest, service: str) -> list[str]:
    return [a.name for a in manifest.apps() if service in stack.depends_on(a.name)]


def most_depended_on_app(manifest, stack) -> str:
    """The app that most other apps depend on (a crash of it reaches furthest)."""
    return max(manifest.apps(), key=lambda a: len(dependents(stack, manifest, a.name))).name


def crashed(stack, name: str) -> int:
    """SIGKILL a service's main process from the host (as a crash or the OOM killer would: not `docker kill`, which
    the engine counts as a stop and does not restart); the container's restart count before it."""
    c = stack.containers()[name]
    c.reload()
    try:
        os.kill(c.attrs["State"]["Pid"], signal.SIGKILL)
    except (PermissionError, ProcessLookupError) as exc:
        pytest.skip(f"{name}: its process cannot be killed from here ({type(exc).__name__}: the gate must run as root "
                    "on the Docker host, in its pid namespace, to crash a container as the OOM killer would)")
    return c.attrs["RestartCount"]


def working_before(stack, users: list[str], disturbed: str) -> None:
    """Fail at once (no disruption, no wait) when a dependent does not work before the disruption: a recovery
    cannot be measured from a broken start. With no dependent there is nothing to observe: the test skips (the
    metric reads UNKNOWN unless the manifest accepts it)."""
    if not users:
        pytest.skip(f"{disturbed}: no app depends on it, so there is no service to see recover")
    unprobed = [u for u in users if not stack.manifest.services[u].probe]
    if unprobed:
        pytest.skip(f"declare services.<name>.probe for {', '.join(unprobed)}: the request that shows it working")
    before = fire(stack, users, timeout=30)
    assert all(works(a) for a in before.values()), finding(
        "resilience", disturbed, f"{', '.join(users)} working before it is disturbed", broken(before))


def test_services_recover_when_a_data_store_restarts(store_spec, stack, http, manifest, written, recoveries,
                                                     disruption):
    """A data store restarted under the running services: they reconnect by themselves (none of them is
    restarted) and the data written before is still there."""
    store = store_spec.name
    users = dependents(stack, manifest, store)
    working_before(stack, users, store)
    starts = {u: stack.containers()[u].attrs["State"]["StartedAt"] for u in users}
    t0 = time.monotonic()
    with disruption("store-restart", store):
        stack.restart(store)
        seconds, answers = until_all_work(stack, users)
    total = None if seconds is None else time.monotonic() - t0
    recoveries.append(("restart", store, total, f"dependents: {', '.join(users)}"))
    assert seconds is not None, finding("resilience", store, f"{', '.join(users)} working again after its restart",
                                        broken(answers))
    restarted = [u for u in users if stack.containers()[u].attrs["State"]["StartedAt"] != starts[u]]
    assert not restarted, finding("resilience", store, "its dependents to reconnect without a restart",
                                  f"restarted: {restarted}")
    ok, detail = still_answerable(http, manifest, written)
    assert ok, finding("resilience", store, "the data written before its restart", detail)


def test_services_answer_a_json_5xx_while_their_ollama_is_paused(ollama_spec, stack, manifest, written, recoveries,
                                                                  disruption):
    """With its Ollama paused, each service routed to it answers a JSON 5xx naming the problem within its own
    upstream timeout (no hang); thawed, they work again."""
    name, users = ollama_spec.name, routed_to(manifest, ollama_spec.name)
    working_before(stack, users, name)
    limits = {u: 2 * float(stack.env(u).get("UPSTREAM_TIMEOUT", "120")) + 10 for u in users}
    with disruption("ollama-pause", name):
        stack.pause([name])
        try:
            answers = fire(stack, users, timeout=max(limits.values()) + 30)
        finally:
            stack.unpause([name])
        seconds, again = until_all_work(stack, users)
    problems = []
    for svc, (code, took, body) in answers.items():
        if not (isinstance(code, int) and code >= 500 and body.lstrip().startswith("{") and "error" in body):
            problems.append(finding("resilience", svc, f"a JSON 5xx while {name} is paused", f"{code} {body[:150]}"))
        elif took > limits[svc]:
            problems.append(finding("resilience", svc, f"an answer within {limits[svc]:.0f} s", f"{took:.1f} s"))
    recoveries.append(("pause", name, seconds, "answers while paused: " + ", ".join(
        f"{svc} {code} in {s:.1f} s" for svc, (code, s, _) in answers.items())))
    assert not problems, "\n".join(problems)
    assert seconds is not None, finding("resilience", name, "its services working again after the thaw",
                                        broken(again))


def test_a_crashed_ollama_or_app_is_restarted_healthy_and_its_dependents_work(crash_target, stack, manifest,
                                                                           stack_profiles, written, recoveries,
                                                                           disruption):
    """Each Ollama, and the app most others depend on, SIGKILLed: the engine restarts it by itself (its restart
    policy), it becomes healthy again, and every service that uses it works again (recovery time in the report)."""
    name = most_depended_on_app(manifest, stack) if crash_target == "app" else crash_target
    users = routed_to(manifest, name) if name in manifest.ollamas else [name, *dependents(stack, manifest, name)]
    working_before(stack, users, name)
    bound = manifest.startup_timeout_s(stack_profiles, first_run=False)
    t0 = time.monotonic()
    with disruption("crash", name):  # until its users work again
        seconds, answers, healthy = _crash_and_recover(stack, name, users, bound, recoveries)
    recoveries.append(("crash (SIGKILL), engine restart", name, None if seconds is None else time.monotonic() - t0,
                       f"healthy after {healthy:.0f} s; dependents: {', '.join(users)}"))
    assert seconds is not None, finding("resilience", name, f"{', '.join(users)} working again after its restart",
                                        broken(answers))


def _crash_and_recover(stack, name: str, users: list[str], bound: float, recoveries) -> tuple:
    """SIGKILL name, wait until the engine brought it back healthy (else fail), then until its users work:
    (seconds until they worked or None, their answers, seconds until it was healthy)."""
    before = crashed(stack, name)

    def back() -> bool:
        c = stack.containers()[name]
        c.reload()
        return c.attrs["RestartCount"] > before and stack.states().get(name) == "healthy"

    healthy = wait_until(back, bound, pause=1)
    if healthy is None:
        c = stack.containers()[name]
        c.reload()
        recoveries.append(("crash (SIGKILL)", name, None, f"restarts {c.attrs['RestartCount'] - before}, "
                           f"state {stack.states().get(name)}"))
        pytest.fail(finding("resilience", name, f"restarted by the engine and healthy within {bound:.0f} s of a crash",
                            f"restarts {c.attrs['RestartCount'] - before}, state {stack.states().get(name, 'gone')} "
                            f"(restart policy {c.attrs['HostConfig']['RestartPolicy'].get('Name') or 'none'})"),
                    pytrace=False)
    seconds, answers = until_all_work(stack, users)
    return seconds, answers, healthy


# last: under a broken entrypoint the outage it simulates takes the Ollama down for the tests after it
def test_an_ollama_restarted_without_its_registry_serves_its_models(ollama_spec, stack, http, manifest, written,
                                                                    recoveries, disruption):
    """Recreated while its registry is unreachable, an Ollama becomes healthy again from the models in its volume,
    lists them, and every service routed to it works through it."""
    name = ollama_spec.name
    working_before(stack, routed_to(manifest, name), name)
    t0 = time.monotonic()
    with disruption("registry-outage", name):  # until its services work again (or the test ends)
        try:
            stack.recreate(name, REGISTRY_DOWN)
        except Exception as exc:  # noqa: BLE001 - the finding carries the evidence
            state = stack.states().get(name, "gone")
            tail = " | ".join(stack.logs(name, tail=5))
            recoveries.append(("restart, registry unreachable", name, None, state))
            pytest.fail(finding("resilience", name, "healthy again after a restart with the registry unreachable",
                                f"{state}: {type(exc).__name__}; last log lines: {tail}"), pytrace=False)
        # evidence that the registry really was unreachable: a pull of a model it holds fails now
        pulled = stack.containers()[name].exec_run(["ollama", "pull", ollama_spec.models[0]])
        if pulled.exit_code == 0:
            pytest.skip(f"{name}: its registry is reachable in this profile (a pull succeeded after the restart), so "
                        "the outage could not be simulated; no evidence either way")
        held = model_names(http, stack.url(name))
        missing = [m for m in ollama_spec.models if normalise(m) not in held]
        assert not missing, finding("resilience", name, f"models {list(ollama_spec.models)} after the restart",
                                    f"missing {missing}")
        seconds, answers = until_all_work(stack, routed_to(manifest, name))
    recoveries.append(("restart, registry unreachable", name, None if seconds is None else time.monotonic() - t0,
                       "healthy, models listed, services work"))
    assert seconds is not None, finding("resilience", name, "its services working through it after the restart",
                                        broken(answers))
