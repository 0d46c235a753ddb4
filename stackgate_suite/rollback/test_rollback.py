"""The seed's rollback plan is clean: `down` separated (volumes kept), `up` simple, and forward again."""

import pytest

from stackgate.metrics import finding
from stackgate.ollama import model_names, normalise
from stackgate.rollback import error_lines
from stackgate.roundtrip import chain_values, run_chain, still_answerable
from stackgate.routing import observe, verdict

pytestmark = [pytest.mark.rollback, pytest.mark.metric("rollback"), pytest.mark.slow]


def test_every_service_is_healthy_on_the_simple_stack(rollback, stack, simple_services):
    """After the rollback every service of the simple file runs healthy."""
    states = stack.states()
    bad = {n: s for n, s in states.items() if s != "healthy"}
    assert not bad and set(states) == simple_services, finding(
        "rollback", "simple stack", f"{sorted(simple_services)} healthy", f"{states}")


def test_rollback_leaves_no_container_or_network_of_the_separated_layout(rollback, stack, simple_config):
    """After the seed's `down` + `up -d` (no --remove-orphans), no container or network of the project that the
    simple file does not define survives."""
    containers = {n: c.name for n, c in stack.containers().items() if n not in simple_config["services"]}
    networks = {k: n for k, n in stack.networks().items() if k not in (simple_config.get("networks") or {})}
    orphans = [finding("rollback", name, "no container of the separated layout after the rollback",
                       f"container {cname} still there") for name, cname in sorted(containers.items())]
    orphans += [finding("rollback", key, "no network of the separated layout after the rollback",
                        f"network {name} still there") for key, name in sorted(networks.items())]
    assert not orphans, "\n".join(orphans)


def test_the_single_ollama_holds_all_four_models(rollback, stack, http, manifest):
    """The simple stack's one Ollama lists every model of both jobs."""
    held = model_names(http, stack.url(manifest.rollback_ollama))
    missing = [m for m in manifest.rollback_models if normalise(m) not in held]
    assert not missing, finding("rollback", manifest.rollback_ollama, f"{list(manifest.rollback_models)}",
                                f"missing {missing}")


def test_every_service_reaches_the_single_ollama(rollback, stack, http, manifest, probe_facts):
    """Dynamic routing on the simple stack: every service's requests arrive at the single Ollama."""
    obs = observe(stack, http, [s.name for s in manifest.apps()], [manifest.rollback_ollama], probe_facts)
    problems = [p for s in manifest.apps()
                for p in verdict(obs[s.name], {v: manifest.rollback_ollama for v in s.routes})]
    assert not problems, "\n".join(problems)


def test_data_written_before_is_still_there_after_rollback(rollback, http, manifest, written):
    """The data of the round-trips the manifest keeps (e.g. a document: by id, via RAG, its entities; a note),
    written before, survives the rollback."""
    ok, detail = still_answerable(http, manifest, written)
    assert ok, finding("rollback", "simple stack", "data written before the rollback", detail)


def test_new_round_trips_work_on_the_simple_stack(rollback, http, manifest, run_facts):
    """The kept round-trips, run afresh after the rollback (a new document, a new note), hold at every step."""
    problems = []
    for name in manifest.rollback_keeps:
        rt = manifest.roundtrips[name]
        values = chain_values(run_facts, rt, list(manifest.roundtrips).index(name), rt.chains()[0], 700, "NEW")
        problems += [p for r in run_chain(http, manifest, rt, values).values() for p in r.problems]
    assert not problems, "\n".join(problems)


def test_forward_again_the_separated_stack_is_healthy_and_keeps_the_data(forward, stack, http, written, manifest):
    """Back on the separated layout: every service healthy, the data still answerable."""
    states = stack.states()
    bad = {n: s for n, s in states.items() if s != "healthy"}
    assert not bad and set(states) == set(manifest.services), finding(
        "rollback", "separated stack", "all 13 services healthy", str(states))
    ok, detail = still_answerable(http, manifest, written)
    assert ok, finding("rollback", "separated stack", "data written before the rollback", detail)



def _no_errors(errors: dict[str, list[str]], layout: str) -> list[str]:
    return [finding("rollback", name, f"no error lines on the {layout} stack after its initialization",
                    f"{len(lines)} line(s), first: {lines[0][:200]}") for name, lines in sorted(errors.items())]


def test_no_error_lines_on_the_simple_stack_after_initialization(forward):
    """The simple stack's logs, from its `up` to the move forward, are free of errors (pattern and allowlist)."""
    problems = _no_errors(forward.errors.get("simple", {}), "simple")
    assert not problems, "\n".join(problems)


def test_no_error_lines_on_the_separated_stack_after_moving_forward(forward, stack):
    """The separated stack's logs since it came back are free of errors."""
    problems = _no_errors(error_lines(stack, since=stack.ready_at), "forward separated")
    assert not problems, "\n".join(problems)
