"""Healthchecks that can fail: each Ollama's check fails while a model it must hold is missing, and each app's
check fails while a dependency it needs does not answer. A check that cannot fail proves nothing."""

import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from stackgate.core.metrics import finding
from stackgate.core.wait import wait_until

pytestmark = [pytest.mark.smoke, pytest.mark.disruptive]
ABSENT = "stackgate-absent-model:latest"


@pytest.mark.metric("ollamas-healthy")
def test_ollama_healthcheck_fails_while_a_model_it_guards_is_missing(ollama_spec, stack):
    """The Ollama's own healthcheck, run in its container with one more model than it holds, exits non-zero."""
    name, var = ollama_spec.name, ollama_spec.models_env
    models = stack.env(name).get(var, "")
    code, out = stack.run_healthcheck(name, {var: f"{models} {ABSENT}".strip()})
    assert code != 0, finding("ollamas-healthy", name, f"its healthcheck to fail while {ABSENT} ({var}) is missing",
                              f"exit {code}: {out[:200] or '(no output)'}")
    code, out = stack.run_healthcheck(name)
    assert code == 0, finding("ollamas-healthy", name, "its healthcheck to pass with the models it holds",
                              f"exit {code}: {out[:200]}")


@pytest.fixture(scope="session")
def paused_checks(owned_stack, manifest, evidence, gate_state, disruption) -> dict[str, dict]:
    """Pause every store and Ollama an app depends on, run each app's healthcheck meanwhile, thaw them, and run
    the checks again until they pass: app -> {'paused': [...], 'during': (code, out), 'after': (code, out)}.
    Only on a stack this session owns (a reused one needs --stack-owned). It is a disruption with its own log window
    (errors in it are judged against logs.during), so it may run inside the log watch after the last check."""
    stack = owned_stack
    for future in evidence.values():  # the slow evidence finishes before anything is paused
        try:
            if future is not None:
                future.result()
        except Exception:  # noqa: BLE001, S110 - its own tests report it
            pass
    t0 = time.time()
    needs = {"ollama", "store"}
    deps = {app.name: [d for d in stack.depends_on(app.name) if manifest.services.get(d) and
                       manifest.services[d].kind in needs] for app in manifest.apps()}
    out: dict[str, dict] = {app: {"paused": ds} for app, ds in deps.items()}
    with disruption("dependency-pause", "every store and Ollama an app depends on, at once", "smoke"):
        paused = stack.pause(sorted({d for ds in deps.values() for d in ds}))  # one not running needs no pause
        try:
            with ThreadPoolExecutor(max_workers=len(deps) or 1) as pool:
                for app, result in zip(deps, pool.map(stack.run_healthcheck, deps)):
                    out[app]["during"] = result
        finally:
            stack.unpause(paused)

        def thawed(app: str) -> tuple[int, str]:
            down = sorted(set(deps[app]) - set(paused))
            if down:  # a dependency that was not running cannot thaw: no point waiting for this app
                return 1, f"not retried: {', '.join(down)} was not running before the pause"
            last = [(1, "")]

            def passes() -> bool:
                last[0] = stack.run_healthcheck(app)
                return last[0][0] == 0
            wait_until(passes, timeout=60, pause=1)
            return last[0]

        with ThreadPoolExecutor(max_workers=min(8, len(deps) or 1)) as pool:
            for app, result in zip(deps, pool.map(thawed, deps)):
                out[app]["after"] = result
    gate_state.span("healthcheck proof: pause, run, thaw, run again", t0)
    return out


@pytest.mark.metric("services-running")
def test_app_healthcheck_fails_while_a_dependency_is_unreachable(app_spec, paused_checks):
    """With the stores and Ollamas it depends on paused, the app's own healthcheck exits non-zero; thawed, it
    passes again."""
    result = paused_checks[app_spec.name]
    assert result["paused"], finding("services-running", app_spec.name, "a store or Ollama among its depends_on",
                                     "none: its healthcheck cannot be shown failing on a dependency")
    code, out = result["during"]
    assert code != 0, finding("services-running", app_spec.name,
                              f"its healthcheck to fail while {', '.join(result['paused'])} are paused",
                              f"exit {code}: {out[:200] or '(no output)'}")
    code, out = result["after"]
    assert code == 0, finding("services-running", app_spec.name, "its healthcheck to pass again after the thaw",
                              f"exit {code}: {out[:200]}")
