"""The seed's rollback plan is clean: `down` the deployment (volumes kept), `up` the rollback layout (the simple
stack, or another manifest's deployment), and forward again."""

import pytest

from stackgate.core.metrics import finding
from stackgate.engines.rollback import error_lines
from stackgate.evidence import openai_api
from stackgate.evidence.ollama import model_names, normalise
from stackgate.evidence.roundtrip import chain_values, run_chain, still_answerable, unanswered
from stackgate.evidence.routing import observe, verdict

pytestmark = [pytest.mark.rollback, pytest.mark.metric("rollback"), pytest.mark.slow]


def test_a_rollback_needs_no_pull_while_the_registry_is_unreachable(rollback_plan, manifest):
    """Every model the rollback layout's Ollamas must hold is already in the model volume a site keeps from before
    the migration: a rollback during a registry outage (a likely moment for one) pulls nothing."""
    problems = []
    for need in rollback_plan.needs:
        if need.missing:
            gib = need.gib(manifest)
            problems.append(finding("rollback", need.ollama, f"every model of {list(need.needs)} already in its kept "
                                    f"volume {need.volume} (registry unreachable)",
                                    f"must pull {need.missing} ({'?' if gib is None else f'{gib:.1f}'} GiB); the "
                                    f"volume holds {list(need.held) or 'nothing'}"))
    assert not problems, "\n".join(problems)


def test_every_service_is_healthy_on_the_rollback_layout(rollback, stack, target_config):
    """After the rollback every service of the rollback layout's files runs healthy."""
    states = stack.states()
    bad = {n: s for n, s in states.items() if s != "healthy"}
    expected = set(target_config["services"])
    assert not bad and set(states) == expected, finding(
        "rollback", f"{rollback.at.label} stack", f"{sorted(expected)} healthy", f"{states}")


def test_rollback_leaves_no_container_or_network_of_the_layout_it_left(rollback, stack, target_config):
    """After the seed's `down` + `up -d` (no --remove-orphans), no container or network of the project that the
    rollback layout's files do not define survives."""
    left = rollback.home.label
    containers = {n: c.name for n, c in stack.containers().items() if n not in target_config["services"]}
    networks = {k: n for k, n in stack.networks().items() if k not in (target_config.get("networks") or {})}
    orphans = [finding("rollback", name, f"no container of the {left} layout after the rollback",
                       f"container {cname} still there") for name, cname in sorted(containers.items())]
    orphans += [finding("rollback", key, f"no network of the {left} layout after the rollback",
                        f"network {name} still there") for key, name in sorted(networks.items())]
    assert not orphans, "\n".join(orphans)


def test_each_ollama_of_the_rollback_layout_holds_its_models(rollback, stack, http, rollback_target):
    """Each Ollama of the rollback layout lists every model its manifest gives it (the simple stack's one
    Ollama: the models of both jobs)."""
    problems = []
    for spec in rollback_target.manifest.ollamas.values():
        if spec.api == "openai":
            problems += openai_api.models(http, stack.url(spec.name), list(spec.models), normalise)
            continue
        held = model_names(http, stack.url(spec.name))
        missing = [m for m in spec.models if normalise(m) not in held]
        if missing:
            problems.append(finding("rollback", spec.name, f"{list(spec.models)}", f"missing {missing}"))
    assert not problems, "\n".join(problems)


def test_every_service_reaches_the_ollama_the_rollback_layout_routes_it_to(rollback, stack, http, rollback_target,
                                                                          probe_facts):
    """Dynamic routing on the rollback layout: every service's requests arrive at the Ollama the layout's
    manifest routes it to (the simple stack: the single Ollama)."""
    apps = rollback_target.manifest.apps()
    obs = observe(stack, http, [s.name for s in apps], list(rollback_target.manifest.ollamas), probe_facts)
    problems = [p for s in apps for p in verdict(obs[s.name], s.routes)]
    assert not problems, "\n".join(problems)


def test_data_written_before_is_still_there_after_rollback(rollback, http, rollback_target, written):
    """The data of the round-trips the manifest keeps (e.g. a document: by id, via RAG, its entities; a note),
    written before, survives the rollback: read back as the rollback layout's manifest says."""
    problems = [finding("rollback", service, f"data written before the rollback still answered on the "
                        f"{rollback.at.label} stack", "; ".join(lost))
                for service, lost in sorted(unanswered(http, rollback_target.manifest, written).items())]
    assert not problems, "\n".join(problems)


def test_new_round_trips_work_on_the_rollback_layout(rollback, http, manifest, rollback_target, run_facts):
    """The kept round-trips, run afresh after the rollback (a new document, a new note) as the rollback layout's
    manifest declares them, hold at every step."""
    problems = []
    there = rollback_target.manifest
    for name in manifest.rollback_keeps:
        rt = there.roundtrips[name]
        values = chain_values(run_facts, rt, list(there.roundtrips).index(name), rt.chains()[0], 700, "NEW",
                              there.phrasing(run_facts.get("phrasing")))
        problems += [p for r in run_chain(http, there, rt, values).values() for p in r.problems]
    assert not problems, "\n".join(problems)


def test_forward_again_the_deployment_is_healthy_and_keeps_the_data(forward, stack, http, written, manifest):
    """Back on the deployment: every service healthy, the data still answerable."""
    states = stack.states()
    bad = {n: s for n, s in states.items() if s != "healthy"}
    assert not bad and set(states) == set(manifest.services), finding(
        "rollback", f"{forward.home.label} stack", f"all {len(manifest.services)} services healthy", str(states))
    ok, detail = still_answerable(http, manifest, written)
    assert ok, finding("rollback", f"{forward.home.label} stack", "data written before the rollback", detail)



def _no_errors(errors: dict[str, list[str]], layout: str) -> list[str]:
    return [finding("rollback", name, f"no error lines on the {layout} stack after its initialization",
                    f"{len(lines)} line(s), first: {lines[0][:200]}") for name, lines in sorted(errors.items())]


def test_no_error_lines_on_the_rollback_layout_after_initialization(forward, rollback_target):
    """The rollback layout's logs, from its `up` to the move forward, are free of errors (pattern and
    allowlist)."""
    problems = _no_errors(forward.errors.get(rollback_target.label, {}), rollback_target.label)
    assert not problems, "\n".join(problems)


def test_no_error_lines_on_the_deployment_after_moving_forward(forward, stack):
    """The deployment's logs since it came back are free of errors."""
    problems = _no_errors(error_lines(stack, since=stack.ready_at), f"forward {forward.home.label}")
    assert not problems, "\n".join(problems)
