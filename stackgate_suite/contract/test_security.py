"""Security, checked without starting anything: compose-lint over the production files (every finding fixed or
suppressed with a reason in the manifest), and our checks over the merged model of every profile."""

import pytest

from stackgate.core.metrics import finding
from stackgate.evidence import security

pytestmark = [pytest.mark.contract, pytest.mark.smoke, pytest.mark.metric("security")]


def test_compose_lint_reports_no_unsuppressed_finding(layout, manifest, gate_state):
    """compose-lint (OWASP / CIS Docker Benchmark) finds nothing in the production files that the manifest does
    not accept with a reason."""
    files = manifest.compose_files(layout, ["production"])
    findings = security.compose_lint(files)
    rows = gate_state.security_findings
    open_ = []
    for f in findings:
        s = security.suppression_for(f, manifest.suppressions)
        rows.setdefault((f.rule, f.severity, s.why if s else "OPEN"), set()).add(f"{f.service} ({f.file})")
        if s is None:
            open_.append(finding("security", f.service, "no unsuppressed compose-lint finding",
                                 f"{f.rule} ({f.severity}) in {f.file}: {f.message[:200]}"))
    assert not open_, "\n".join(open_)


def test_no_container_runs_privileged(profile_config):
    """No container is privileged or adds every capability."""
    bad = security.privileged(profile_config)
    assert not bad, "\n".join(finding("security", n, "an unprivileged container", why) for n, why in bad.items())


def test_no_container_gets_the_docker_socket(profile_config):
    """No container mounts the Docker engine's socket (it would own the host)."""
    bad = security.docker_socket_mounts(profile_config)
    assert not bad, "\n".join(finding("security", n, "no docker.sock mount", m) for n, m in bad.items())


def test_no_container_shares_the_hosts_namespaces(profile_config):
    """No container runs on the host's network, pid or ipc namespace."""
    bad = security.host_network(profile_config)
    assert not bad, "\n".join(finding("security", n, "its own namespaces", m) for n, m in bad.items())


def test_no_data_store_publishes_a_port(profile_config, manifest):
    """Neo4j, PostgreSQL, Redis and ChromaDB stay on the stack network."""
    bad = security.published_stores(profile_config, manifest)
    assert not bad, "\n".join(finding("security", n, "no published port", p) for n, p in bad.items())


def test_no_ollama_is_published_beyond_loopback(profile_config, manifest):
    """An Ollama (no authentication) binds its published port to loopback unless the manifest says why not."""
    bad = security.exposed_ollamas(profile_config, manifest)
    assert not bad, "\n".join(finding("security", n, "a port bound to 127.0.0.1 (STACK_BIND)", p)
                              for n, p in bad.items())
