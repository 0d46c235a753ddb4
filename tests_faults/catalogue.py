"""The fault catalogue of this repository's stack: each fault an edit of a throw-away copy of stack/ (and, for a
running stack, an action after start), and the test that must fail for it, naming its metric and service."""

from __future__ import annotations

from stackgate.faults import (
    Fault,
    compose_edit,
    exec_detached,
    exec_in,
    foreign_container,
    replace_in,
    set_env,
    set_key,
    stop,
    write_file,
)
from stackgate.faults import add_script as add_script

# The entrypoint as the seed wrote it: every model pulled at every start, FATAL on any failed pull.
REPULL_LIB = """#!/usr/bin/env bash
set -euo pipefail
ollama_run() {
  ollama serve &
  local pid=$!
  for i in $(seq 1 120); do ollama list >/dev/null 2>&1 && break; sleep 0.25; done
  for model in ${MODELS:-}; do
    echo "$1: pulling $model"
    ollama pull "$model" || { echo "$1: FATAL: pull of $model failed" >&2; kill -TERM "$pid"; exit 1; }
  done
  wait "$pid"
}
"""



CHROMA_WATCHER = """cat > /tmp/watch.py <<'PY'
import socket, time
while True:
    try:
        socket.create_connection(("chromadb", 8000), 1).close()
    except OSError:
        with open("/proc/1/fd/1", "w") as out:
            out.write("ERROR index cache: lost chromadb, cached vectors dropped\\n")
        time.sleep(30)
    time.sleep(0.3)
PY
exec python /tmp/watch.py"""  # a refused connection happens only while chromadb restarts (a paused one still accepts)


def _postgres_volume_renamed(doc: dict) -> None:
    """Postgres of this file in a volume named apart from the other layouts' `postgres_data`."""
    doc["services"]["postgres"]["volumes"] = ["vllm_postgres_data:/var/lib/postgresql/data"]
    doc["volumes"]["vllm_postgres_data"] = None


def _slot_two_pulls_less(doc: dict) -> None:
    doc["services"]["ollama"]["environment"] = {
        "MODELS": '{{if eq .Task.Slot "2"}}llama3.2:latest{{else}}llama3.2:latest llama2:7b{{end}}'}


def _ner_routed_to_vision(doc: dict) -> None:
    doc["services"]["ner-graph-service"]["environment"] = {"OLLAMA_URL": "http://ollama-vision:11434"}


def _vision_one_replica(doc: dict) -> None:
    doc["services"]["ollama-vision"]["deploy"] = {**doc["services"]["ollama-vision"]["deploy"], "replicas": 1}


def _routing_fault(service: str, var: str, wrong: str) -> Fault:
    return Fault(
        f"route-{service}-{var}", f"{service} {var} pointed at {wrong}",
        (set_env(service, var, f"http://{wrong}:11434"),),
        (rf"test_url_variables_point_at_the_right_ollama\[{service}\]",),
        "routing", service,
        may_fail=(rf"test_every_model_a_service_names_is_held_by_the_ollama_it_reaches\[{service}\]",))


ROUTES = [("notes-service", "OLLAMA_URL", "ollama-vision"), ("doc-processor", "VISION_OLLAMA_URL", "ollama"),
          ("doc-processor", "OLLAMA_URL", "ollama-vision"), ("rag-service", "OLLAMA_URL", "ollama-vision"),
          ("ocr-service", "VISION_OLLAMA_URL", "ollama"), ("client-rag-service", "VISION_OLLAMA_URL", "ollama"),
          ("ner-graph-service", "OLLAMA_URL", "ollama-vision")]

CATALOGUE: tuple[Fault, ...] = (
    *(_routing_fault(*r) for r in ROUTES),
    Fault("vision-model-missing", "ollama-vision does not pull llava:7b",
          (set_env("ollama-vision", "MODELS", "nomic-embed-text"),),
          (r"test_each_ollama_pulls_exactly_its_jobs_models\[ollama-vision\]",), "models", "ollama-vision",
          may_fail=(r"test_every_model_a_service_names_is_held_by_the_ollama_it_reaches\[(doc-processor|ocr-service)\]",)),
    Fault("llm-model-on-vision", "llama3.2:latest pulled onto ollama-vision",
          (set_env("ollama-vision", "MODELS", "llava:7b nomic-embed-text llama3.2:latest"),),
          (r"test_each_ollama_pulls_exactly_its_jobs_models\[ollama-vision\]",), "models", "ollama-vision"),
    Fault("shared-model-volume", "both Ollamas mount one model volume",
          (set_key("ollama-vision", "volumes", ["ollama_llm_models:/root/.ollama"]),),
          (r"test_each_ollama_has_its_own_model_volume",), "compose-contract", "ollama-vision"),
    Fault("missing-healthcheck", "notes-service has no healthcheck",
          (compose_edit("docker-compose-separated.yml", lambda d: d["services"]["notes-service"].pop("healthcheck")),),
          (r"test_every_service_has_a_healthcheck\[separated\]",), "compose-contract", "notes-service",
          may_fail=(r"test_every_dependency_waits_for_healthy\[separated\]",)),
    Fault("ungated-dependency", "rag-service starts when client-rag-service has merely started",
          (compose_edit("docker-compose-separated.yml", lambda d: d["services"]["rag-service"]["depends_on"]
                        ["client-rag-service"].__setitem__("condition", "service_started")),),
          (r"test_every_dependency_waits_for_healthy\[separated\]",), "compose-contract", "rag-service"),
    Fault("rollback-loses-data", "docker-compose-simple.yml names the Postgres volume differently",
          (compose_edit("docker-compose-simple.yml", lambda d: (
              d["services"]["postgres"].__setitem__("volumes", ["pg_rollback:/var/lib/postgresql/data"]),
              d["volumes"].__setitem__("pg_rollback", None))),),
          (r"test_rollback_layout_keeps_the_data_volume_names",), "compose-contract", "postgres"),
    Fault("seed-doc-processor-env", "the seed's doc-processor: LLM_MODEL but only VISION_OLLAMA_URL",
          (set_env("doc-processor", "OLLAMA_URL", None),),
          (r"test_every_model_a_service_names_is_held_by_the_ollama_it_reaches\[doc-processor\]",
           r"test_url_variables_point_at_the_right_ollama\[doc-processor\]"), "models", "doc-processor"),
    Fault("healthcheck-cannot-fail", "the LLM Ollama's healthcheck is `ollama --version` (always exits 0)",
          (compose_edit("docker-compose-separated.yml", lambda d: d["services"]["ollama"]["healthcheck"]
                        .__setitem__("test", ["CMD", "ollama", "--version"])),),
          (r"test_every_healthcheck_can_fail\[ollama\]",), "services-running", "ollama"),
    # the production path (static: the production profile's merged model, never started here)
    Fault("latest-tag", "postgres runs the mutable `postgres:latest`",
          (set_key("postgres", "image", "postgres:latest"),),
          (r"test_images_are_pinned_and_never_pulled_in_place_of_ours\[production-separated\]",),
          "compose-contract", "postgres",
          may_fail=(r"test_images_are_pinned_and_never_pulled_in_place_of_ours\[production\+gpu-separated\]",
                    r"test_compose_lint_reports_no_unsuppressed_finding\[separated\]")),
    Fault("built-image-may-be-pulled", "notes-service's image is built here but has no `pull_policy: build`",
          (compose_edit("docker-compose-separated.yml", lambda d: d["services"]["notes-service"].pop("pull_policy")),),
          (r"test_images_are_pinned_and_never_pulled_in_place_of_ours\[production-separated\]",),
          "compose-contract", "notes-service",
          may_fail=(r"test_images_are_pinned_and_never_pulled_in_place_of_ours\[production\+gpu-separated\]",)),
    Fault("ollama-bound-to-every-interface", "the LLM Ollama (no authentication) is published on 0.0.0.0",
          (set_key("ollama", "ports", ["0.0.0.0:11434:11434"]),),
          (r"test_no_ollama_is_published_beyond_loopback\[production-separated\]",), "security", "ollama",
          may_fail=(r"test_no_ollama_is_published_beyond_loopback\[(production\+gpu|airgap)-separated\]",
                    r"test_compose_lint_reports_no_unsuppressed_finding\[separated\]")),
    Fault("privileged-container", "redis runs privileged",
          (set_key("redis", "privileged", True),),
          (r"test_no_container_runs_privileged\[production-separated\]",), "security", "redis",
          may_fail=(r"test_no_container_runs_privileged\[(production\+gpu|airgap)-separated\]",
                    r"test_compose_lint_reports_no_unsuppressed_finding\[separated\]")),
    Fault("docker-socket-mounted", "notes-service gets the Docker engine's socket",
          (set_key("notes-service", "volumes", ["/var/run/docker.sock:/var/run/docker.sock"]),),
          (r"test_no_container_gets_the_docker_socket\[production-separated\]",), "security", "notes-service",
          may_fail=(r"test_no_container_gets_the_docker_socket\[(production\+gpu|airgap)-separated\]",
                    r"test_compose_lint_reports_no_unsuppressed_finding\[separated\]")),
    Fault("host-pid-namespace", "ner-graph-service shares the host's pid namespace",
          (set_key("ner-graph-service", "pid", "host"),),
          (r"test_no_container_shares_the_hosts_namespaces\[production-separated\]",), "security", "ner-graph-service",
          may_fail=(r"test_no_container_shares_the_hosts_namespaces\[(production\+gpu|airgap)-separated\]",
                    r"test_compose_lint_reports_no_unsuppressed_finding\[separated\]")),
    Fault("data-store-published", "postgres publishes its port on the host",
          (set_key("postgres", "ports", ["127.0.0.1:5432:5432"]),),
          (r"test_no_data_store_publishes_a_port\[production-separated\]",), "security", "postgres",
          may_fail=(r"test_no_data_store_publishes_a_port\[(production\+gpu|airgap)-separated\]",
                    r"test_compose_lint_reports_no_unsuppressed_finding\[separated\]",
                    r"test_rollback_layout_publishes_the_same_ports")),
    Fault("literal-password", "the Postgres password is a literal in the compose file",
          (compose_edit("docker-compose-separated.yml",
                        lambda d: d["services"]["postgres"]["environment"].__setitem__("POSTGRES_PASSWORD", "hunter2")),),
          (r"test_compose_lint_reports_no_unsuppressed_finding\[separated\]",), "security", "postgres"),
    Fault("healthcheck-budget-short", "the vision Ollama's healthcheck gives up after 60 s (a first run takes ~15 min)",
          (compose_edit("docker-compose-separated.yml", lambda d: d["services"]["ollama-vision"].__setitem__(
              "healthcheck", {"test": ["CMD", "/usr/local/bin/ollama-healthcheck.sh"], "interval": "2s",
                              "timeout": "10s", "retries": 30})),),
          (r"test_ollama_healthcheck_budget_covers_the_first_run_timeline\[separated\]",),
          "compose-contract", "ollama-vision"),
    Fault("chromadb-client-server-mismatch", "the services' chromadb client is not the production server's version",
          (replace_in("services/requirements.txt", "chromadb==1.0.12", "chromadb==1.5.9"),),
          (r"test_client_libraries_are_pinned_to_their_servers_version\[production\]",),
          "compose-contract", "chromadb"),
    # dynamic, group A: one broken stack, faults on different services
    Fault("live-ocr-on-llm-ollama", "running ocr-service sends its vision calls to the LLM Ollama",
          (set_env("ocr-service", "VISION_OLLAMA_URL", "http://ollama:11434"),),
          (r"test_service_reaches_only_the_ollama_it_is_routed_to\[ocr-service\]",), "routing", "ocr-service",
          may_fail=(r"test_health_endpoint_reports_the_configured_ollama\[ocr-service\]",
                    r"test_no_error_lines_after_initialization\[ocr-service\]",
                    r"test_roundtrip_step\[ocr-png-read\]"), group="A"),
    Fault("notes-work-endpoint-fails", "notes-service starts healthy but its work endpoint answers 5xx",
          (set_env("notes-service", "OLLAMA_MODEL", "no-such-model:1b"),),
          (r"test_roundtrip_step\[notes-structured\]",), "llm-queries", "notes-service",
          may_fail=(r"test_service_reaches_only_the_ollama_it_is_routed_to\[notes-service\]",
                    r"test_no_error_lines_after_initialization\[notes-service\]",
                    r"test_roundtrip_step\[notes-stored\]"), group="A"),
    Fault("error-logged-after-init", "ner-graph-service logs an ERROR line after initialization",
          (), (r"test_no_error_lines_after_initialization\[ner-graph-service\]",), "logs-clean",
          "ner-graph-service", group="A",
          actions=(exec_in("ner-graph-service", "echo 'ERROR injected: graph write failed' > /proc/1/fd/1"),)),
    Fault("frontend-loads-an-outside-asset", "the frontend page pulls a script from another host",
          (add_script("http://127.0.0.2:9/cdn/app.js"),
           set_key("frontend", "volumes", ["./services/app/static/index.html:/opt/services/app/static/index.html:ro"])),
          (r"test_page_and_assets_reference_no_external_url", r"test_page_renders_in_chromium_without_console_errors"),
          "frontend-loads", "frontend", may_fail=(r"test_every_asset_the_page_references_answers_200",), group="A"),
    Fault("document-ingestion-broken", "doc-processor hands documents to a client-rag address nobody serves",
          (set_env("doc-processor", "CLIENT_RAG_URL", "http://client-rag-service:9999"),),
          (r"test_roundtrip_step\[document-png-read\]",), "document-processing", "doc-processor",
          may_fail=(r"test_roundtrip_step\[document-", r"test_service_reaches_only_the_ollama_it_is_routed_to\[doc-processor\]",
                    r"test_no_error_lines_after_initialization\[doc-processor\]"), group="A"),
    Fault("live-llm-model-on-vision", "the running vision Ollama holds an LLM model",
          (set_env("ollama-vision", "MODELS", "llava:7b nomic-embed-text llama3.2:latest"),),
          (r"test_ollama_holds_no_model_of_the_other_job\[ollama-vision\]",), "models", "ollama-vision", group="A"),
    Fault("ollama-healthcheck-ignores-models", "the vision Ollama's healthcheck only asks whether `ollama list` answers",
          (compose_edit("docker-compose-separated.yml", lambda d: d["services"]["ollama-vision"]["healthcheck"]
                        .__setitem__("test", ["CMD-SHELL", "ollama list >/dev/null"])),),
          (r"test_ollama_healthcheck_fails_while_a_model_it_guards_is_missing\[ollama-vision\]",),
          "ollamas-healthy", "ollama-vision", group="A"),
    Fault("app-healthcheck-always-passes", "rag-service's healthcheck ends in `|| true`",
          (compose_edit("docker-compose-separated.yml", lambda d: d["services"]["rag-service"]["healthcheck"]
                        .__setitem__("test", ["CMD-SHELL", "python -m app.healthcheck 8102 || true"])),),
          (r"test_app_healthcheck_fails_while_a_dependency_is_unreachable\[rag-service\]",),
          "services-running", "rag-service", group="A"),
    Fault("error-begins-after-the-last-test", "client-rag-service logs an ERROR every 20 s, beginning 45 s after "
          "the stack is handed to the suite (after its last check; only the log watch sees it)",
          (), (r"test_no_error_lines_after_initialization\[client-rag-service\]",), "logs-clean",
          "client-rag-service", group="A", watch_logs_s=80,
          actions=(exec_detached("client-rag-service", "sleep 45; while true; do "
                                 "echo 'ERROR late: embedding queue stalled' > /proc/1/fd/1; sleep 20; done"),)),
    # dynamic, group B: a data store goes down under a running stack
    Fault("datastore-down", "redis stops while the stack runs",
          (), (r"test_service_is_running_and_healthy\[redis\]",), "services-running", "redis",
          may_fail=(r"\[(doc-processor|rag-service|redis)\]", r"test_roundtrip_step\[(document|rag|refusals-rag)",
                    r"test_health_endpoint_answers_ok\[frontend\]",  # its /health covers the apps it proxies
                    r"test_frontend::test_page_renders"),
          group="B", actions=(stop("redis"),)),
    Fault("vision-weights-missing", "the vision Ollama's volume loses llava:7b's weights (its GGUF blob) while the "
          "name stays listed and the container healthy",
          (), (r"test_every_required_model_has_its_weights\[ollama-vision-llava:7b\]",), "models", "ollama-vision",
          # every text turn of the vision Ollama now answers 500, and /api/show of llava too
          may_fail=(r"test_(ollama|openai)_api::.*\[ollama-vision\]",
                    r"test_an_ollamas_models_run_with_the_thread_count_of_its_cpus\[ollama-vision\]"),
          group="B", actions=(exec_in("ollama-vision", "find /root/.ollama/models/blobs -type f -size +1M -delete"),)),
    Fault("browser-cannot-start", "the browser the frontend check drives is missing",
          (), (), "frontend-loads", "frontend", group="B", status="UNKNOWN",
          env=(("STACKGATE_CHROMIUM", "/nonexistent/chromium"),)),
    # dynamic, group R: the rollback as the seed writes it leaves a container of the separated layout
    Fault("rollback-leaves-an-orphan", "a container of an older separated layout (renamed service ollama-v1) "
          "survives `down` + `up -d simple`",
          (), (r"test_rollback_leaves_no_container_or_network_of_the_layout_it_left",), "rollback", "ollama-v1",
          may_fail=(r"test_every_service_is_healthy_on_the_rollback_layout",
                    r"test_forward_again_the_deployment_is_healthy_and_keeps_the_data"),
          group="R", suite="rollback-only",  # the rollback tests alone: the release gate runs the same ones
          actions=(foreign_container("ollama-v1", "stackgate/airgap-runtime:latest", "rma-network"),)),
    # dynamic, group P: the site's kept model volume lacks a model the rollback layout needs, the registry is down
    Fault("rollback-must-pull-without-registry", "the simple stack's model volume kept from before the migration "
          "holds three of its four models (no nomic-embed-text): the rollback, during a registry outage, must pull it",
          (replace_in("manifest.yaml", "  keeps: [document, notes]",
                      "  keeps: [document, notes]\n  volume_held: {ollama: [llama3.2:latest, llama2:7b, llava:7b]}"),),
          (r"test_a_rollback_needs_no_pull_while_the_registry_is_unreachable",), "rollback", "ollama",
          # the rollback's `up` then fails: its Ollama cannot pull what it must hold
          may_fail=(r"test_rollback::",), group="P", suite="rollback-only"),
    Fault("entrypoint-repulls-without-registry", "the LLM Ollama's entrypoint pulls every model at every start and "
          "dies when the registry is unreachable, although its models are in its volume",
          (write_file("ollama-lib-repull.sh", REPULL_LIB),
           set_key("ollama", "volumes", ["ollama_llm_models:/root/.ollama",
                                         "./ollama-lib-repull.sh:/usr/local/lib/ollama-lib.sh:ro"])),
          (r"test_an_ollama_restarted_without_its_registry_serves_its_models\[ollama\]",), "resilience", "ollama",
          may_fail=(r"test_services_recover_when_a_data_store_restarts", r"test_services_answer_a_json_5xx_while_their_"
                    r"ollama_is_paused", r"test_an_ollama_restarted_without_its_registry_serves_its_models\[ollama-vision\]",
                    # the seed's entrypoint sets no thread count either, and a crash of it restarts into the outage
                    r"test_an_ollamas_models_run_with_the_thread_count_of_its_cpus\[ollama\]",
                    r"test_a_crashed_ollama_or_app_is_restarted_healthy_and_its_dependents_work",
                    # its FATAL exit and the failed requests of the services routed to it, during the outage
                    r"test_no_undeclared_error_lines_while_the_resilience_tests_disturb_the_stack\[(ollama|"
                    r"notes-service|doc-processor|rag-service|ner-graph-service)\]"),
          group="S", suite="resilience-only",
          tests="test_an_ollama_restarted_without_its_registry_serves_its_models or test_no_undeclared_error_lines"),
    Fault("app-health-ignores-its-ollama", "notes-service's /health asks Postgres only: it reports healthy while the "
          "LLM Ollama it needs is gone (its code edited and mounted over the image's)",
          (replace_in("services/app/notes.py", '{"postgres": pg_ping, url_var: llm.ping}', '{"postgres": pg_ping}'),
           set_key("notes-service", "volumes", ["./services/app/notes.py:/opt/services/app/notes.py:ro"])),
          (r"test_an_apps_health_fails_while_each_dependency_it_must_cover_is_paused\[notes-service\]",),
          "services-running", "notes-service", group="S", suite="resilience-only",
          tests="test_an_apps_health_fails_while_each_dependency_it_must_cover_is_paused"),
    Fault("error-logged-only-during-a-store-restart", "client-rag-service logs an ERROR while chromadb restarts (and "
          "at no other time): only the resilience step's own log window sees it",
          (), (r"test_no_undeclared_error_lines_while_the_resilience_tests_disturb_the_stack\[client-rag-service\]",),
          "logs-clean", "client-rag-service", group="S", suite="resilience-only",
          tests="test_services_recover_when_a_data_store_restarts or test_no_undeclared_error_lines",
          actions=(exec_detached("client-rag-service", CHROMA_WATCHER),)),
    # dynamic, group A: the LLM's answers are real (llama.cpp, stand-in weights); these break what it is given
    Fault("rag-wrong-document", "rag-service hands the LLM the fourth-best chunk instead of the best one (its code "
          "edited and mounted over the image's)",
          (replace_in("services/app/rag.py", 'json={"query": question, "k": k}', 'json={"query": question, "k": 4}'),
           replace_in("services/app/rag.py", 'hits = resp.json()["results"]', 'hits = resp.json()["results"][-1:]'),
           set_key("rag-service", "volumes", ["./services/app/rag.py:/opt/services/app/rag.py:ro"])),
          (r"test_roundtrip_step\[rag-answer\]",), "llm-queries", "rag-service",
          may_fail=(r"test_roundtrip_step\[document-(png|pdf)-answer\]", r"test_roundtrip_step\[rag-answer-stream\]"),
          group="A"),
    Fault("llm-without-grammar", "the LLM Ollama ignores `format` (no grammar): JSON is asked for, not enforced",
          (set_env("ollama", "OLLAMA_STANDIN_GRAMMAR", "off"),),
          (r"test_a_json_schema_format_constrains_the_answer\[ollama\]",), "ollama-api", "ollama",
          # without the grammar the model's JSON may not parse: extraction (and the documents that use it) can fail
          may_fail=(r"test_json_format_returns_valid_json\[ollama\]", r"test_roundtrip_step\[ner-entities\]",
                    r"test_roundtrip_step\[document-", r"test_roundtrip_step\[notes-",
                    r"test_no_error_lines_after_initialization\[(doc-processor|ner-graph-service|notes-service)\]",
                    r"test_service_reaches_only_the_ollama_it_is_routed_to\[(doc-processor|ner-graph-service|"
                    r"notes-service)\]"),
          group="A"),
    Fault("vision-without-grammar", "the vision Ollama ignores `format` (no grammar) on its text turns",
          (set_env("ollama-vision", "OLLAMA_STANDIN_GRAMMAR", "off"),),
          (r"test_a_json_schema_format_constrains_the_answer\[ollama-vision\]",), "ollama-api", "ollama-vision",
          may_fail=(r"test_json_format_returns_valid_json\[ollama-vision\]",), group="A"),
    # dynamic, group I: both Ollamas on the same CPU; the LLM's latency under a vision burst must show it
    Fault("ollamas-share-cpus", "stack/.env puts the vision side (ollama-vision and the services pinned beside it) on "
          "the LLM Ollama's CPU",
          (replace_in(".env", "OLLAMA_VISION_CPUSET=0", "OLLAMA_VISION_CPUSET=1"),),
          (r"test_llm_latency_under_a_vision_burst_stays_within_its_bound",), "isolation", "ner-graph-service",
          group="I", suite="isolation-only"),  # the isolation tests alone: the release gate runs the same ones
    Fault("burst-half-fails", "ocr-service reads every page, then answers every second request with a 503: the vision "
          "burst the isolation test measures under is half failures (its code edited and mounted over the image's). "
          "The work is done either way, so the load stays and group I's shared-CPU fault still shows",
          (replace_in("services/app/ocr.py", "from .common import Ollama, env,",
                      "from .common import Ollama, ServiceError, env,"),
           replace_in("services/app/ocr.py", "page_images(data, kind)]\n",
                      "page_images(data, kind)]\n        SERVED.append(1)\n"
                      "        if len(SERVED) % 2 == 0:\n            raise ServiceError(503, 'refusing every second request')\n"),
           replace_in("services/app/ocr.py", "PROMPT = ", "SERVED = []\nPROMPT = "),
           set_key("ocr-service", "volumes", ["./services/app/ocr.py:/opt/services/app/ocr.py:ro"])),
          (r"test_llm_latency_under_a_vision_burst_stays_within_its_bound",), "isolation", "ocr-service",
          # its refusals are logged while the burst runs
          may_fail=(r"test_no_undeclared_error_lines_while_the_vision_burst_runs\[ocr-service\]",),
          group="J", suite="isolation-only"),  # apart from group I: a half-failing burst hides its latency fault
    Fault("ollamas-cpuset-shared", "the compose file pins ollama-vision to the LLM Ollama's CPU",
          (set_key("ollama-vision", "cpuset", "1"),),
          (r"test_each_ollama_runs_on_cpus_of_its_own",), "compose-contract", "ollama-vision"),
    # static: how the production files run (threads, quota, restarts, memory)
    Fault("ollama-threads-beyond-its-cpuset", "stack/.env gives the LLM Ollama's models 2 llama.cpp threads on its "
          "1-CPU cpuset", (replace_in(".env", "OLLAMA_THREADS=1", "OLLAMA_THREADS=2"),),
          (r"test_each_ollamas_threads_follow_the_cpus_it_may_use\[",), "compose-contract", "ollama"),
    Fault("vision-quota-below-its-cpuset", "stack/.env gives the vision Ollama half a CPU of quota on its 1-CPU set",
          (replace_in(".env", "OLLAMA_VISION_CPUS=1.0", "OLLAMA_VISION_CPUS=0.5"),),
          (r"test_each_ollamas_cpu_quota_follows_its_cpuset\[",), "compose-contract", "ollama-vision"),
    Fault("app-without-restart-policy", "rag-service has `restart: \"no\"`: after a crash it stays down",
          (set_key("rag-service", "restart", "no"),),
          (r"test_every_service_is_restarted_after_a_crash\[",), "compose-contract", "rag-service"),
    Fault("simple-ollama-may-load-beyond-its-limit", "the simple layout's Ollama may hold all four models at once "
          "(OLLAMA_MAX_LOADED_MODELS=4) in its 16g limit",
          (set_env("ollama", "OLLAMA_MAX_LOADED_MODELS", "4", file="docker-compose-simple.yml"),),
          (r"test_what_an_ollama_may_load_at_once_fits_its_memory_limit\[.*-simple\]",), "compose-contract", "ollama"),
    # Phase 2, the vLLM layout (stack/manifest-vllm.yaml): static, a name the OpenAI server does not serve
    Fault("vllm-serves-another-name", "vLLM is told to serve llama2:7b only; the LLM services ask for llama3.2:latest",
          (set_key("vllm", "command", ["--model", "meta-llama/Llama-3.2-3B-Instruct", "--served-model-name", "llama2:7b",
                                       "--port", "8000"], file="docker-compose-vllm.yml"),
           set_key("vllm", "command", ["--model", "/opt/weights/SmolLM2-135M-Instruct.Q4_1.gguf",
                                       "--served-model-name", "llama2:7b", "--port", "8000"],
                   file="docker-compose-vllm.airgap.yml")),
          (r"test_every_model_a_service_names_is_held_by_the_ollama_it_reaches\[notes-service\]",), "models",
          "notes-service", may_fail=(r"test_every_model_a_service_names_is_held_by_the_ollama_it_reaches\[",),
          group="static-vllm", manifest="manifest-vllm.yaml"),
    Fault("vllm-data-volume-renamed", "the vLLM layout keeps Postgres in a volume of another name than the separated "
          "deployment it rolls back to",
          (compose_edit("docker-compose-vllm.yml", _postgres_volume_renamed),),
          (r"test_rollback_layout_keeps_the_data_volume_names",), "compose-contract", "postgres",
          group="static-vllm", manifest="manifest-vllm.yaml"),
    # dynamic, group V (the vLLM layout): an LLM service left on Ollama's API, a stream that never ends
    Fault("vllm-service-left-on-ollama", "notes-service still speaks to an Ollama (LLM_API unset, OLLAMA_URL the only "
          "Ollama left) in the vLLM layout",
          (set_env("notes-service", "LLM_API", None, file="docker-compose-vllm.yml"),
           set_env("notes-service", "OLLAMA_URL", "http://ollama-vision:11434", file="docker-compose-vllm.yml")),
          (r"test_service_reaches_only_the_ollama_it_is_routed_to\[notes-service\]",), "routing", "notes-service",
          # its /health now names OLLAMA_URL, not the LLM_BASE_URL the layout gives it
          may_fail=(r"test_roundtrip_step\[notes-", r"test_no_error_lines_after_initialization\[notes-service\]",
                    r"test_health_endpoint_reports_the_configured_ollama\[notes-service\]"),
          group="V", manifest="manifest-vllm.yaml"),
    Fault("vllm-stream-without-done", "the OpenAI server's streams never send `data: [DONE]`",
          (set_env("vllm", "VLLM_STANDIN_DONE", "off", file="docker-compose-vllm.airgap.yml"),),
          (r"test_openai_chat_streams_sse_ending_in_done\[vllm\]",), "openai-api", "vllm",
          # rag-service streams its answers through the OpenAI server: a stream without its end is an error there
          may_fail=(r"test_roundtrip_step\[rag-answer-stream\]",
                    r"test_no_error_lines_after_initialization\[rag-service\]"),
          group="V", manifest="manifest-vllm.yaml"),
    # dynamic, group W: the rollback from the vLLM layout to the separated deployment (manifest-vllm.yaml)
    Fault("vllm-layout-renames-a-data-volume", "the vLLM layout keeps Postgres in a volume of another name: the "
          "separated deployment it rolls back to starts on an empty database",
          (compose_edit("docker-compose-vllm.yml", _postgres_volume_renamed),),
          (r"test_data_written_before_is_still_there_after_rollback",), "rollback", "doc-processor",
          group="W", suite="rollback", manifest="manifest-vllm.yaml"),
    # ... and rag-service's answer stream (the vLLM layout streams through the OpenAI server)
    Fault("rag-stream-at-once", "rag-service's /ask/stream sends the whole answer in its done event, no token events "
          "(its code edited and mounted over the image's)",
          (replace_in("services/app/rag.py", 'yield sse({"token": piece})', 'pass'),
           set_key("rag-service", "volumes", ["./services/app/rag.py:/opt/services/app/rag.py:ro"],
                   file="docker-compose-vllm.yml")),
          (r"test_roundtrip_step\[rag-answer-stream\]",), "llm-queries", "rag-service", group="W",
          manifest="manifest-vllm.yaml"),
    # dynamic, group Z: the scaled stack on swarm (`make scale`); the edits are of its swarm override
    Fault("scale-replica-lacks-a-model", "the second replica of the LLM Ollama pulls llama3.2 only, not llama2:7b "
          "(its MODELS templated on the task slot; its own healthcheck reads the same list and passes)",
          (compose_edit("docker-stack-scaled.yml", _slot_two_pulls_less),),
          (r"test_each_replica_holds_its_jobs_models_and_no_model_of_the_other_job\[ollama\]",), "scale-out", "ollama",
          group="Z", suite="scale", tests="test_each_replica_holds_its_jobs_models_and_no_model_of_the_other_job"),
    Fault("scale-service-routed-to-the-wrong-ollama", "ner-graph-service reaches the vision Ollama's service on the "
          "scaled stack (OLLAMA_URL=http://ollama-vision:11434 in the swarm override)",
          (compose_edit("docker-stack-scaled.yml", _ner_routed_to_vision),),
          (r"test_service_reaches_only_the_ollama_it_is_routed_to\[ner-graph-service\]",), "routing",
          "ner-graph-service", group="Z", suite="scale", tests="test_service_reaches_only_the_ollama_it_is_routed_to",
          # doc-processor hands its text to ner-graph-service and stores nothing unless every step worked
          may_fail=(r"test_health_endpoint_reports_the_configured_ollama\[ner-graph-service\]",
                    r"test_roundtrip_step\[(document-|ner-)",
                    r"test_service_reaches_only_the_ollama_it_is_routed_to\[doc-processor\]",
                    r"test_no_error_lines_after_initialization\[(doc-processor|ner-graph-service)\]",
                    r"test_each_replica_of_an_ollama_serves_part_of_a_burst\[ollama\]",
                    r"test_losing_a_replica_under_a_burst_fails_few_requests_and_swarm_restores_it\[ollama\]")),
    Fault("scale-one-replica-where-two-are-asked", "the vision Ollama runs 1 replica on the scaled stack; the manifest "
          "asks for 2", (compose_edit("docker-stack-scaled.yml", _vision_one_replica),),
          (r"test_each_ollama_runs_the_replicas_the_manifest_asks_for\[ollama-vision\]",), "scale-out", "ollama-vision",
          group="Z", suite="scale", tests="test_each_ollama_runs_the_replicas_the_manifest_asks_for",
          may_fail=(r"test_each_replica_of_an_ollama_serves_part_of_a_burst\[ollama-vision\]",
                    r"test_losing_a_replica_under_a_burst_fails_few_requests_and_swarm_restores_it\[ollama-vision\]")),
    # dynamic, group C: a service exits right after it starts (the suite's own start must fail)
    Fault("service-exits-after-start", "notes-service exits as soon as it starts",
          (set_key("notes-service", "command", ["python", "-c", "print('notes-service: exiting'); raise SystemExit(3)"]),),
          (r"test_the_stack_comes_up_healthy_within_its_bound",), "services-running", "notes-service", group="C"),
    # ... and, in the same failed start, typos in two production healthchecks (run as written in the airgap profile)
    Fault("neo4j-healthcheck-typo", "neo4j's production healthcheck asks port 7475 (a typo of 7474)",
          (compose_edit("docker-compose-separated.yml", lambda d: d["services"]["neo4j"]["healthcheck"].__setitem__(
              "test", ["CMD-SHELL", "wget -qO /dev/null http://127.0.0.1:7475 || exit 1"])),),
          (r"test_the_stack_comes_up_healthy_within_its_bound",), "services-running", "neo4j", group="C"),
    Fault("chromadb-healthcheck-typo", "chromadb's production healthcheck opens /dev/tpc/ (a typo of /dev/tcp/)",
          (compose_edit("docker-compose-separated.yml", lambda d: d["services"]["chromadb"]["healthcheck"].__setitem__(
              "test", ["CMD", "bash", "-c", ":> /dev/tpc/127.0.0.1/8000"])),),
          (r"test_the_stack_comes_up_healthy_within_its_bound",), "services-running", "chromadb", group="C"),
)
