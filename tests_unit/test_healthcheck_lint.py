"""A healthcheck that cannot fail is recognised; one that can fail is left alone."""

import pytest

from stackgate.evidence.composefile import healthcheck_cannot_fail


def config(test):
    return {"services": {"s": {"healthcheck": {"test": test}}}}


@pytest.mark.parametrize("test", [["CMD", "true"], ["CMD-SHELL", "exit 0"], ["CMD-SHELL", "echo ok"],
                                  ["CMD-SHELL", "curl -f http://127.0.0.1:8100/health || true"],
                                  ["CMD-SHELL", "python -m app.healthcheck 8102 || exit 0"],
                                  ["CMD", "ollama", "--version"]])
def test_a_healthcheck_that_passes_whatever_it_guards_is_named(test):
    assert healthcheck_cannot_fail(config(test), "s", holds_models=False)


@pytest.mark.parametrize("test", [["CMD", "bash", "-c", ":> /dev/tcp/127.0.0.1/11434"],
                                  ["CMD-SHELL", "curl -fsS http://127.0.0.1:11434/api/version"]])
def test_a_bare_port_probe_is_named_only_on_a_server_that_must_hold_models(test):
    assert healthcheck_cannot_fail(config(test), "s", holds_models=True)
    assert healthcheck_cannot_fail(config(test), "s", holds_models=False) is None


@pytest.mark.parametrize("test", [["CMD", "/usr/local/bin/ollama-healthcheck.sh"], ["CMD", "redis-cli", "ping"],
                                  ["CMD", "pg_isready", "-h", "127.0.0.1", "-U", "rma", "-d", "rma"],
                                  ["CMD", "python", "-m", "app.healthcheck", "8100"], ["NONE"]])
def test_a_healthcheck_that_can_fail_is_left_alone(test):
    assert healthcheck_cannot_fail(config(test), "s", holds_models=True) is None
