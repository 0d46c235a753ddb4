"""Static contract of how the production files run: each Ollama's threads and CPU quota follow its CPUs, what it
may load at once fits its memory, every service comes back after a crash, and no store is given variables it
ignores. Checked per profile and layout, without starting anything."""

import math

import pytest
import yaml

from stackgate.core.metrics import finding
from stackgate.evidence.composefile import cpu_set, environment, image_ref, keys_set, load_config
from stackgate.evidence.ollama import normalise

pytestmark = [pytest.mark.contract, pytest.mark.smoke]

THREADS_VAR = "MODEL_NUM_THREAD"  # the entrypoint writes it into each model as PARAMETER num_thread
RESTARTS = ("unless-stopped", "always")
GIB = 1024 ** 3


def ollamas_in(config: dict, manifest) -> list[str]:
    """The Ollama servers (Ollama's API, not an OpenAI server) of a merged compose model: the manifest's, and the
    rollback layout's single one."""
    names = {o.name for o in manifest.ollamas.values() if o.api == "ollama"} | {manifest.rollback_ollama}
    return [n for n in config["services"] if n in names]


def limits(config: dict, service: str) -> dict:
    return ((config["services"][service].get("deploy") or {}).get("resources") or {}).get("limits") or {}


def cpus_of(config: dict, service: str) -> tuple[int | None, str]:
    """How many CPUs a service may use, and from what: its cpuset, else its CPU quota rounded up."""
    svc = config["services"][service]
    if svc.get("cpuset"):
        return len(cpu_set(svc["cpuset"])), f"cpuset {svc['cpuset']}"
    quota = limits(config, service).get("cpus") or svc.get("cpus")
    if quota:
        return math.ceil(float(quota)), f"CPU quota {quota}"
    return None, "no cpuset and no CPU quota"


@pytest.mark.metric("compose-contract")
def test_each_ollamas_threads_follow_the_cpus_it_may_use(profile_config, manifest):
    """Every Ollama sets its models' llama.cpp threads (MODEL_NUM_THREAD) to the CPUs of its cpuset (else of its
    CPU quota): Ollama 0.9.0 counts the host's cores, and many threads on few CPUs crawl (ollama/ollama#17916)."""
    problems = []
    for name in ollamas_in(profile_config, manifest):
        want, why = cpus_of(profile_config, name)
        seen = environment(profile_config, name).get(THREADS_VAR)
        if want is None or seen is None or not seen.isdigit() or int(seen) != want:
            problems.append(finding("compose-contract", name, f"{THREADS_VAR}={want if want else '?'} ({why})",
                                    f"{THREADS_VAR}={seen or '(unset: Ollama would run one thread per host core)'}"))
    assert not problems, "\n".join(problems)


@pytest.mark.metric("compose-contract")
def test_each_ollamas_cpu_quota_follows_its_cpuset(profile_config, manifest):
    """An Ollama pinned to a cpuset has a CPU quota of exactly that many CPUs (a smaller one throttles the threads
    sized by the set; a larger one promises what the set cannot give)."""
    problems = []
    for name in ollamas_in(profile_config, manifest):
        spec = profile_config["services"][name].get("cpuset")
        quota = limits(profile_config, name).get("cpus")
        if spec and (quota is None or float(quota) != len(cpu_set(spec))):
            problems.append(finding("compose-contract", name, f"CPU quota {len(cpu_set(spec))} (cpuset {spec})",
                                    f"CPU quota {quota or 'unset'}"))
    assert not problems, "\n".join(problems)


@pytest.mark.metric("compose-contract")
def test_every_service_is_restarted_after_a_crash(profile_config):
    """Every service has `restart: unless-stopped` (or `always`): after a crash or a host reboot the engine brings
    it back, and an Ollama that exits FATAL does not take its dependents down for good."""
    def restarts(svc: dict) -> bool:
        policy = ((svc.get("deploy") or {}).get("restart_policy") or {}).get("condition")
        return svc.get("restart") in RESTARTS or policy == "any"

    problems = [finding("compose-contract", name, f"restart: {' or '.join(RESTARTS)}",
                        f"restart: {svc.get('restart') or 'unset (no)'}")
                for name, svc in profile_config["services"].items() if not restarts(svc)]
    assert not problems, "\n".join(problems)


def budget(config: dict, name: str, memory) -> tuple[float, list[str], str]:
    """GiB an Ollama may hold at once (its OLLAMA_MAX_LOADED_MODELS largest models with OLLAMA_NUM_PARALLEL slots,
    plus headroom), the models of that worst case, and what is wrong with its settings ('' when nothing)."""
    env = environment(config, name)
    models = [normalise(m) for m in env.get("MODELS", "").split()]
    unset = [v for v in ("OLLAMA_MAX_LOADED_MODELS", "OLLAMA_NUM_PARALLEL")
             if not env.get(v, "").isdigit() or int(env[v]) < 1]
    if unset:
        return 0.0, [], (f"{', '.join(unset)} unset or 0 (Ollama then sizes them from the host's memory, not its "
                         "limit: up to 3 models, 4 slots each)")
    unsized = [m for m in models if m not in memory.models]
    if unsized:
        return 0.0, [], f"no memory need declared for {unsized} (manifest memory.models)"
    parallel, most = int(env["OLLAMA_NUM_PARALLEL"]), int(env["OLLAMA_MAX_LOADED_MODELS"])
    needs = sorted(((memory.need_gib(m, parallel), m) for m in models), reverse=True)[:most]
    return sum(n for n, _ in needs) + memory.headroom_gib, [m for _, m in needs], ""


@pytest.mark.metric("compose-contract")
def test_what_an_ollama_may_load_at_once_fits_its_memory_limit(profile_config, manifest, gate_state, request):
    """Each Ollama's worst case (its OLLAMA_MAX_LOADED_MODELS largest models, each with OLLAMA_NUM_PARALLEL slots
    of KV cache, plus headroom) fits its memory limit; Ollama itself sizes by /proc/meminfo and would be OOM-killed."""
    if manifest.memory is None:
        pytest.skip("the manifest declares no model memory needs (memory:) to add up")
    problems = []
    for name in ollamas_in(profile_config, manifest):
        raw = limits(profile_config, name).get("memory")
        limit = int(raw) / GIB if raw else None
        need, worst, wrong = budget(profile_config, name, manifest.memory)
        env = environment(profile_config, name)
        gate_state.memory_budgets[f"{request.node.callspec.id} {name}"] = (
            need, limit, worst, env.get("OLLAMA_MAX_LOADED_MODELS"), len(env.get("MODELS", "").split()))
        if wrong:
            problems.append(finding("compose-contract", name, "a memory budget it can be held to", wrong))
        elif limit is None:
            problems.append(finding("compose-contract", name, f"a memory limit >= {need:.1f} GiB", "no memory limit"))
        elif need > limit:
            problems.append(finding("compose-contract", name, f"at most {limit:.1f} GiB loaded at once (its limit)",
                                    f"{need:.1f} GiB: {' + '.join(worst)} with OLLAMA_MAX_LOADED_MODELS="
                                    f"{env['OLLAMA_MAX_LOADED_MODELS']}, OLLAMA_NUM_PARALLEL={env['OLLAMA_NUM_PARALLEL']}"))
    assert not problems, "\n".join(problems)


@pytest.mark.metric("compose-contract")
def test_chromadb_is_given_only_variables_it_reads(layout, production):
    """ChromaDB 1.0.12 (its Rust server) reads only CHROMA_-prefixed variables: any other variable set on it does
    nothing and misleads whoever reads the file."""
    config = production[layout]
    problems = [finding("compose-contract", name, "only CHROMA_* variables", f"{var} (ignored by chroma 1.0.12)")
                for name in config["services"] if image_ref(config, name)[0] == "chromadb/chroma"
                for var in environment(config, name) if not var.startswith("CHROMA_")]
    assert not problems, "\n".join(problems)


@pytest.mark.metric("compose-contract")
def test_the_airgap_override_swaps_images_and_nothing_production_runs(layout, manifest):
    """The airgap profile's override files set only the keys the manifest allows (`airgap_override.may_set`, each
    with its reason): every production command, entrypoint, healthcheck, variable and volume runs as written."""
    overrides = (manifest.compose_files(layout, ["airgap"])[len(manifest.layouts[layout]):]
                 if "airgap" in manifest.profiles else [])  # none: production runs as written by construction
    allowed = manifest.airgap_may_set or ()  # undeclared: nothing may be set
    problems = [finding("compose-contract", ", ".join(rule.services) or "every service", "a reason for each "
                        "airgap_override.may_set entry", f"{rule.key}: {rule.why[:80]}")
                for rule in allowed if rule.why.strip().upper().startswith("QUESTION")]
    production = set(load_config(manifest.compose_files(layout, []), manifest.project_dir)["services"])
    for path in overrides:
        raw = yaml.safe_load(path.read_text()) or {}
        problems += [finding("compose-contract", path.name, "an override that sets only services' keys",
                             f"top-level {key}") for key in raw if key != "services" and not str(key).startswith("x-")]
        for service, keys in keys_set(path).items():
            if service not in production:
                problems.append(finding("compose-contract", service, "no service production does not have",
                                        f"{path.name} adds it"))
            for key in keys:
                if not any(rule.allows(service, key) for rule in allowed):
                    problems.append(finding("compose-contract", service, "only keys airgap_override.may_set allows",
                                            f"{path.name} sets {key} (production's would not run as written)"))
    assert not problems, "\n".join(problems)
