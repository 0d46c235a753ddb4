"""The stand-in's `ollama` CLI: the exit codes and messages scripts (and healthchecks) depend on."""

from __future__ import annotations

import socket
import threading
import time

import pytest


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def server(tmp_path, monkeypatch):
    """The stand-in serving on a free loopback port, OLLAMA_HOST pointing at it."""
    import uvicorn

    from standin_ollama.server import create_app

    port = free_port()
    monkeypatch.setenv("OLLAMA_MODELS", str(tmp_path / "models"))
    monkeypatch.setenv("OLLAMA_HOST", f"127.0.0.1:{port}")
    srv = uvicorn.Server(uvicorn.Config(create_app(), host="127.0.0.1", port=port, log_level="error"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not srv.started and time.monotonic() < deadline:
        time.sleep(0.02)
    yield port
    srv.should_exit = True
    thread.join(5)


def test_pull_of_an_unknown_model_exits_1_with_ollamas_error(server, capsys):
    from standin_ollama.cli import main

    assert main(["pull", "no-such-model:1b"]) == 1
    assert "Error: pull model manifest: file does not exist" in capsys.readouterr().err


def test_pull_then_list_shows_the_model_in_ollamas_columns(server, capsys):
    from standin_ollama.cli import main

    assert main(["pull", "llava:7b"]) == 0
    assert capsys.readouterr().out.strip().splitlines()[-1] == "success"
    assert main(["list"]) == 0
    header, row = capsys.readouterr().out.splitlines()
    assert header.split() == ["NAME", "ID", "SIZE", "MODIFIED"] and row.startswith("llava:7b")


def test_version_answers_from_the_server(server, capsys):
    from standin_ollama.cli import main

    assert main(["--version"]) == 0
    assert "standin" in capsys.readouterr().out


def test_no_server_is_the_real_connection_error_and_exit_1(monkeypatch, capsys):
    from standin_ollama.cli import main

    monkeypatch.setenv("OLLAMA_HOST", f"127.0.0.1:{free_port()}")
    assert main(["list"]) == 1
    assert "could not connect to ollama server" in capsys.readouterr().err
    assert main(["--version"]) == 0  # as Ollama: a warning, exit 0
    assert "could not connect to a running Ollama instance" in capsys.readouterr().err


def test_create_from_a_modelfile_sets_parameters_that_show_reports(server, tmp_path, capsys):
    """`ollama create M -f Modelfile` (FROM + PARAMETER) makes a model whose /api/show lists the parameter."""
    import httpx

    from standin_ollama.cli import main

    assert main(["pull", "llama3.2"]) == 0
    modelfile = tmp_path / "Modelfile"
    modelfile.write_text("FROM llama3.2:latest\nPARAMETER num_thread 3\n")
    assert main(["create", "llama3.2:latest", "-f", str(modelfile)]) == 0
    shown = httpx.post(f"http://127.0.0.1:{server}/api/show", json={"model": "llama3.2:latest"}).json()
    assert "num_thread 3" in shown["parameters"].splitlines()


def test_create_of_an_unsupported_modelfile_line_exits_1(server, tmp_path, capsys):
    from standin_ollama.cli import main

    modelfile = tmp_path / "Modelfile"
    modelfile.write_text("FROM llama3.2:latest\nADAPTER ./lora.gguf\n")
    assert main(["create", "x", "-f", str(modelfile)]) == 1
    assert "unsupported Modelfile line" in capsys.readouterr().err
