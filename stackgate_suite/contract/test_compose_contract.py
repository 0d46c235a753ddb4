"""Static contract of the compose files against the manifest: routing, models, volumes, health gating."""

import pytest

from stackgate.core.metrics import finding
from stackgate.evidence.composefile import (
    cpu_set,
    environment,
    healthcheck_budget_s,
    healthcheck_cannot_fail,
    image_ref,
    models_pulled,
    named_volumes,
    ollama_reached,
    published,
)
from stackgate.evidence.ollama import normalise

pytestmark = [pytest.mark.contract, pytest.mark.smoke]


@pytest.mark.metric("routing")
def test_url_variables_point_at_the_right_ollama(app_spec, separated, manifest):
    """Each routing variable of a service names the Ollama the manifest routes it to, on port 11434."""
    env = environment(separated, app_spec.name)
    for var, want in app_spec.routes.items():
        reached, why = ollama_reached(env.get(var, ""), separated, {o.name: o.internal_port for o in manifest.ollamas.values()})
        assert reached == want, finding("routing", app_spec.name, f"{var} -> {want}:11434",
                                        f"{var}={env.get(var) or '(unset)'}" + (f" ({why})" if why else ""))


@pytest.mark.metric("models")
def test_every_model_a_service_names_is_held_by_the_ollama_it_reaches(app_spec, separated, manifest):
    """A model variable's model is pulled by the Ollama its URL variable actually reaches."""
    env = environment(separated, app_spec.name)
    for model_var, url_var in app_spec.models.items():
        model = env.get(model_var)
        assert model, finding("models", app_spec.name, f"{model_var} set", "unset")
        url = env.get(url_var, "")
        reached, why = ollama_reached(url, separated, {o.name: o.internal_port for o in manifest.ollamas.values()})
        if reached is None:  # the seed's defect: a model variable without the URL that would serve it
            others = [v for v in app_spec.routes if env.get(v)]
            held_by = [o for o in manifest.ollamas if normalise(model) in models_pulled(separated, o)]
            pytest.fail(finding("models", app_spec.name, f"{model_var}={model} served via {url_var}",
                                f"{url_var} {'unset' if not url else why}; it would go to "
                                f"{', '.join(others) or 'nothing'}, while only {held_by or 'no Ollama'} holds {model}"),
                        pytrace=False)
        held = models_pulled(separated, reached)
        assert normalise(model) in held, finding("models", app_spec.name, f"{model_var}={model} held by {reached}",
                                                 f"{reached} pulls {sorted(held)}")


@pytest.mark.metric("models")
def test_each_ollama_pulls_exactly_its_jobs_models(ollama_spec, separated):
    """An Ollama pulls every model of its job and none of the other job's."""
    pulled = models_pulled(separated, ollama_spec.name)
    missing = {normalise(m) for m in ollama_spec.models} - pulled
    wrong = {normalise(m) for m in ollama_spec.must_not_hold} & pulled
    assert not missing and not wrong, finding("models", ollama_spec.name, f"MODELS = {list(ollama_spec.models)}",
                                              f"missing {sorted(missing)}, extra {sorted(wrong)}")


@pytest.mark.metric("compose-contract")
def test_each_ollama_has_its_own_model_volume(separated, manifest):
    """The Ollamas keep models in separate named volumes (a shared store lists and prunes each other's)."""
    volumes = {o.name: next((v for v in named_volumes(separated, o.name).values() if v == o.volume),
                            named_volumes(separated, o.name).get("/root/.ollama")) for o in manifest.ollamas.values()}
    for name, spec in manifest.ollamas.items():
        assert volumes[name] == spec.volume, finding("compose-contract", name, f"volume {spec.volume}",
                                                     str(volumes[name]))
    assert len(set(volumes.values())) == len(volumes), finding(
        "compose-contract", "ollamas", "one model volume each", f"shared: {volumes}")


@pytest.mark.metric("compose-contract")
def test_each_ollama_publishes_its_port_to_11434_inside(ollama_spec, separated):
    """ollama answers on host 11434, ollama-vision on host 11435; both listen on 11434 inside."""
    ports = published(separated, ollama_spec.name)
    assert ports.get(ollama_spec.port) == 11434, finding("compose-contract", ollama_spec.name,
                                                         f"{ollama_spec.port}->11434", str(ports))


@pytest.mark.metric("compose-contract")
def test_every_service_has_a_healthcheck(layout, compose_config, manifest):
    """Every service defines a healthcheck (so `up --wait` and dependents wait for real readiness)."""
    config = compose_config[layout]
    missing = [n for n, s in config["services"].items()
               if not (s.get("healthcheck") or {}).get("test") or (s.get("healthcheck") or {}).get("disable")]
    assert not missing, "\n".join(finding("compose-contract", n, "a healthcheck", "none") for n in missing)


@pytest.mark.metric("compose-contract")
def test_every_dependency_waits_for_healthy(layout, compose_config):
    """Every depends_on entry uses condition: service_healthy."""
    config = compose_config[layout]
    loose = [finding("compose-contract", n, f"depends_on {d}: condition service_healthy", str(c.get("condition")))
             for n, s in config["services"].items()
             for d, c in (s.get("depends_on") or {}).items() if c.get("condition") != "service_healthy"]
    assert not loose, "\n".join(loose)


@pytest.mark.metric("compose-contract")
def test_separated_layout_has_every_manifest_service(separated, manifest):
    """The separated file defines exactly the manifest's services (13)."""
    assert set(separated["services"]) == set(manifest.services), finding(
        "compose-contract", "docker-compose-separated.yml", sorted(manifest.services), sorted(separated["services"]))


@pytest.mark.metric("compose-contract")
def test_rollback_layout_keeps_the_data_volume_names(separated, rollback_config, manifest):
    """The rollback layout's files mount the same named data volumes, so rolling back keeps the data."""
    for store in (s for s in manifest.services.values() if s.volume):
        before, after = named_volumes(separated, store.name), named_volumes(rollback_config, store.name)
        assert before == after and store.volume in after.values(), finding(
            "compose-contract", store.name, f"same data volume ({store.volume}) in both layouts", f"{before} vs {after}")


@pytest.mark.metric("compose-contract")
def test_rollback_layout_routes_every_service_as_its_manifest_says(app_spec, rollback_config, rollback_target):
    """In the rollback layout's files every routing variable points at the Ollama its manifest names (the simple
    stack: the single Ollama)."""
    there = rollback_target.manifest
    spec = there.services.get(app_spec.name)
    assert spec is not None, finding("compose-contract", app_spec.name, f"a service of {there.path.name} too",
                                     "missing from the rollback layout's manifest")
    env = environment(rollback_config, app_spec.name)
    for var, want in spec.routes.items():
        reached, why = ollama_reached(env.get(var, ""), rollback_config,
                                      {o.name: o.internal_port for o in there.ollamas.values()})
        assert reached == want, finding("compose-contract", app_spec.name, f"{var} -> {want}", why or env.get(var))


@pytest.mark.metric("compose-contract")
def test_rollback_layout_pulls_every_model_of_each_ollama(rollback_config, rollback_target):
    """Each Ollama of the rollback layout pulls the models its manifest gives it (the simple stack's single
    Ollama: all four)."""
    problems = []
    for spec in rollback_target.manifest.ollamas.values():
        missing = {normalise(m) for m in spec.models} - models_pulled(rollback_config, spec.name)
        if missing:
            problems.append(finding("compose-contract", spec.name, f"all of {list(spec.models)}",
                                    f"missing {sorted(missing)}"))
    assert not problems, "\n".join(problems)


@pytest.mark.metric("compose-contract")
def test_rollback_layout_publishes_the_same_ports(separated, rollback_config, manifest):
    """Every application port of the deployment is published by the rollback layout too."""
    for svc in (s for s in manifest.services.values() if s.port and s.kind != "ollama"):
        assert published(rollback_config, svc.name) == published(separated, svc.name), finding(
            "compose-contract", svc.name, f"port {svc.port} in both layouts", f"{published(rollback_config, svc.name)}")


@pytest.mark.metric("services-running")
def test_every_healthcheck_can_fail(service_spec, separated):
    """No healthcheck passes whatever it guards: no constant, no swallowed status, no `--version`, and no bare
    port probe on an Ollama (it must list its models)."""
    why = healthcheck_cannot_fail(separated, service_spec.name, service_spec.kind == "ollama")
    assert why is None, finding("services-running", service_spec.name, "a healthcheck that can fail", why)


@pytest.mark.metric("compose-contract")
def test_images_are_pinned_and_never_pulled_in_place_of_ours(profile_config, manifest):
    """Official images carry the manifest's tag (never latest); an image built here has `pull_policy: build`
    (or `never` in the airgap profile), so Compose never pulls a registry's image of that name instead."""
    problems = []
    for name, svc in profile_config["services"].items():
        repo, tag = image_ref(profile_config, name)
        policy = svc.get("pull_policy")
        if tag in ("", "latest"):
            problems.append(finding("compose-contract", name, "a pinned image tag", f"{repo}:{tag or '(none)'}"))
        if "build" in svc:
            if policy not in ("build", "never"):
                problems.append(finding("compose-contract", name, "pull_policy: build for an image built here",
                                        f"pull_policy {policy or 'unset'}: Compose would pull {repo}:{tag} first"))
            for arg, value in ((svc["build"].get("args") or {}).items()):
                base, _, base_tag = str(value).rpartition(":")
                if base in manifest.images and base_tag != manifest.images[base]:
                    problems.append(finding("compose-contract", name, f"build arg {arg} {base}:{manifest.images[base]}",
                                            str(value)))
        elif policy != "never" and manifest.images.get(repo) != tag:
            problems.append(finding("compose-contract", name, f"{repo}:{manifest.images.get(repo, '(not in images)')}",
                                    f"{repo}:{tag}"))
    assert not problems, "\n".join(problems)


@pytest.mark.metric("compose-contract")
def test_ollama_healthcheck_budget_covers_the_first_run_timeline(layout, production, manifest):
    """Each production Ollama may take as long as the seed's first run (every model pulled) before its
    healthcheck gives up: start_period + retries x interval >= the documented first-run time."""
    if not manifest.timeline_s.get("first_run"):
        pytest.skip("the manifest declares no first-run timeline (timeline_s.first_run) to size the budget by")
    config = production[layout]
    ollamas = manifest.ollamas if layout == "separated" else {manifest.rollback_ollama: None}
    problems = []
    for name in ollamas:
        want = (manifest.expected_healthy_s(name, first_run=True) if layout == "separated"
                else max(manifest.expected_healthy_s(o, first_run=True) or 0 for o in manifest.ollamas))
        budget = healthcheck_budget_s(config, name)
        if want and budget < want:
            problems.append(finding("compose-contract", name, f"a healthcheck budget >= {want:.0f} s (first run)",
                                    f"{budget:.0f} s (start_period + retries x interval)"))
    assert not problems, "\n".join(problems)


@pytest.mark.metric("compose-contract")
@pytest.mark.parametrize("profile", ["production", "airgap"])
def test_client_libraries_are_pinned_to_their_servers_version(profile, manifest):
    """Each client library in the manifest's `versions` is pinned to the version of the server it talks to."""
    from stackgate.evidence.composefile import load_config, pinned_version

    if not any(profile in (spec.get("client_requirements") or {}) for spec in manifest.versions.values()):
        pytest.skip(f"the manifest declares no client/server versions to compare for the {profile} profile")
    config = load_config(manifest.compose_files("separated", [profile]), manifest.project_dir)
    problems = []
    for package, spec in manifest.versions.items():
        client_file = (spec.get("client_requirements") or {}).get(profile)
        if not client_file:
            continue
        client = pinned_version(manifest.project_dir / client_file, package)
        server_file = (spec.get("server_requirements") or {}).get(profile)
        server = (pinned_version(manifest.project_dir / server_file, package) if server_file
                  else image_ref(config, spec["server"])[1])
        if client is None or client != server:
            problems.append(finding("compose-contract", spec["server"], f"{package} client == server {server}",
                                    f"client {client or 'unpinned'} in {client_file}"))
    assert not problems, "\n".join(problems)


@pytest.mark.metric("compose-contract")
def test_each_ollama_runs_on_cpus_of_its_own(separated, manifest):
    """Every Ollama of the separated layout has a cpuset, and no two share a CPU (LLM and vision work must not
    compete: the release gate's isolation metric measures what this promises)."""
    sets = {name: separated["services"][name].get("cpuset") for name in manifest.ollamas}
    for name, spec in sets.items():
        assert spec, finding("compose-contract", name, "a cpuset of its own", "no cpuset")
    names = list(sets)
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            shared = cpu_set(sets[a]) & cpu_set(sets[b])
            assert not shared, finding("compose-contract", b, f"CPUs apart from {a}'s",
                                       f"{a} on {sets[a]}, {b} on {sets[b]}: CPU(s) {sorted(shared)} shared")
