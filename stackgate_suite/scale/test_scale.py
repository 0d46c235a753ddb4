"""Scale-out (swarm): each Ollama runs the manifest's replicas, each replica holds its job's models only, a burst
through the services reaches every replica, and losing a replica under load costs few requests and heals."""

import time

import docker
import pytest

from stackgate.core.http import client as http_client
from stackgate.core.metrics import finding
from stackgate.core.wait import wait_until
from stackgate.evidence.ollama import normalise
from stackgate.evidence.replicas import send_burst, work_per_replica

pytestmark = [pytest.mark.scale, pytest.mark.metric("scale-out")]


def held_models(container) -> set[str]:
    """The models a replica lists (`ollama list` in its container: the engine's view, no published port)."""
    res = container.exec_run(["ollama", "list"])
    lines = (res.output or b"").decode(errors="replace").splitlines()
    if res.exit_code != 0:
        raise AssertionError(f"`ollama list` exited {res.exit_code}: {' '.join(lines)[:200]}")
    return {normalise(line.split()[0]) for line in lines[1:] if line.strip()}


def burst_values(run_facts, offset: int) -> dict[str, str]:
    return {"number": str(int(run_facts["number"]) + offset), "vendor": run_facts["vendor"] + "SC"}


def test_each_ollama_runs_the_replicas_the_manifest_asks_for(ollama_spec, swarm_stack, scale):
    """Swarm wants, runs and has healthy as many replicas of each Ollama as the manifest's scale section asks."""
    want = scale.replicas.get(ollama_spec.name, 1)
    running, desired = swarm_stack.desired().get(ollama_spec.name, (0, 0))
    healthy = swarm_stack.healthy_replicas(ollama_spec.name)
    assert desired == want and healthy == want, finding(
        "scale-out", ollama_spec.name, f"{want} replicas desired and healthy (manifest scale.replicas)",
        f"{desired} desired, {running} running, {healthy} healthy")


def test_each_replica_holds_its_jobs_models_and_no_model_of_the_other_job(ollama_spec, swarm_stack):
    """Every replica of an Ollama lists every model its job needs and none it must not hold."""
    replicas = swarm_stack.replicas(ollama_spec.name)  # how many: test_each_ollama_runs_the_replicas_...
    assert replicas, finding("scale-out", ollama_spec.name, "running replicas to read", "none")
    problems = []
    for slot, container in sorted(replicas.items()):
        held = held_models(container)
        missing = sorted({normalise(m) for m in ollama_spec.models} - held)
        wrong = sorted(held & {normalise(m) for m in ollama_spec.must_not_hold})
        if missing or wrong:
            problems.append(f"replica {slot} lacks {missing} and holds {wrong}" if missing and wrong else
                            f"replica {slot} lacks {missing}" if missing else f"replica {slot} holds {wrong}")
    assert not problems, finding("scale-out", ollama_spec.name,
                                 f"each replica holds {list(ollama_spec.models)} and none of "
                                 f"{list(ollama_spec.must_not_hold)}", "; ".join(problems))


def test_each_replica_of_an_ollama_serves_part_of_a_burst(ollama_spec, swarm_stack, scale, manifest, run_facts,
                                                          scale_report):
    """A burst through the app that calls this Ollama by its service name is answered in full, and every replica
    serves part of it (DNS round-robin, per-replica access logs); the counts go into the report."""
    req = scale.drive[ollama_spec.name]
    since = time.time() - 1
    result = send_burst(http_client, manifest, req,
                        burst_values(run_facts, 800), scale.requests, scale.workers)
    time.sleep(1)  # the last access lines reach the logs
    clients = {ip for ip, svc in swarm_stack.ip_map().items() if svc == req.service}
    result.per_replica = work_per_replica(swarm_stack.replica_logs(ollama_spec.name, since), clients)
    scale_report["bursts"].append({"ollama": ollama_spec.name, "via": req.service, "sent": result.sent,
                                   "ok": result.ok, "per_replica": result.per_replica, "seconds": result.seconds})
    assert result.ok == result.sent == scale.requests, finding(
        "scale-out", req.service, f"all {scale.requests} burst requests answered {req.expect}",
        f"{result.ok} of {result.sent}; failures {result.failures[:3]}")
    idle = [slot for slot, n in result.per_replica.items() if n == 0]
    assert len(result.per_replica) >= scale.replicas.get(ollama_spec.name, 1) and not idle, finding(
        "scale-out", ollama_spec.name, f"every one of {scale.replicas.get(ollama_spec.name, 1)} replicas serves part "
        f"of {scale.requests} requests from {req.service}",
        "work requests per replica " + ", ".join(f"{s}: {n}" for s, n in result.per_replica.items()))


@pytest.mark.disruptive
def test_losing_a_replica_under_a_burst_fails_few_requests_and_swarm_restores_it(
        ollama_spec, swarm_stack, scale, manifest, run_facts, scale_report):
    """One replica is killed while a burst runs: at most scale.replica_loss.max_failed requests fail, and swarm
    has every replica of the Ollama healthy again within recover_s (the time goes into the report)."""
    want = scale.replicas.get(ollama_spec.name, 1)
    replicas = swarm_stack.replicas(ollama_spec.name)
    assert replicas, finding("scale-out", ollama_spec.name, "a running replica to kill", "none")
    victim = min(replicas.items())
    killed: dict = {}

    def kill(after: int) -> None:
        killed.update(at=time.monotonic(), after=after)
        try:
            victim[1].kill()  # SIGKILL: the task fails, swarm starts a new one in its slot
        except docker.errors.APIError as exc:
            killed["error"] = str(exc)

    req = scale.drive[ollama_spec.name]
    result = send_burst(http_client, manifest, req,
                        burst_values(run_facts, 900), scale.requests, scale.workers, during=kill)
    left = scale.recover_s - (time.monotonic() - killed.get("at", time.monotonic()))
    healed = wait_until(lambda: swarm_stack.healthy_replicas(ollama_spec.name) >= want
                      and victim[1].id not in {c.id for c in swarm_stack.replicas(ollama_spec.name).values()},
                      max(left, 1))
    recovery = None if healed is None else round(time.monotonic() - killed["at"], 1)
    scale_report["losses"].append({"ollama": ollama_spec.name, "slot": victim[0], "via": req.service,
                                   "sent": result.sent, "failed": result.sent - result.ok,
                                   "failures": result.failures[:3], "recovered_s": recovery,
                                   "killed_after": killed.get("after")})
    assert killed and "error" not in killed, finding(
        "scale-out", ollama_spec.name, f"replica {victim[0]} killed during the burst",
        killed.get("error", "the burst ended first"))
    failed = result.sent - result.ok
    assert failed <= scale.max_failed, finding(
        "scale-out", req.service, f"at most {scale.max_failed} failed requests while replica {victim[0]} of "
        f"{ollama_spec.name} was killed", f"{failed} of {result.sent} failed: {result.failures[:3]}")
    assert recovery is not None, finding(
        "scale-out", ollama_spec.name, f"{want} healthy replicas again within {scale.recover_s:g} s of the kill",
        f"{swarm_stack.healthy_replicas(ollama_spec.name)} healthy after {scale.recover_s:g} s")
