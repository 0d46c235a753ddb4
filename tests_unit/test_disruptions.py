"""Disruption windows: each disruption's logs judged against what the manifest declares it may cause."""

from __future__ import annotations

import pytest

from stackgate import manifest
from stackgate.core.errors import ManifestError
from stackgate.evidence import disruptions

DURING = """
  during:
    ollama-pause:
      - service: notes-service
        of: ollama
        pattern: 'POST /notes failed: .*unreachable'
        why: "a note sent while its Ollama is frozen is answered 502 and logged"
"""


def load_with(tmp_path, during: str) -> manifest.Manifest:
    text = manifest.DEFAULT_PATH.read_text()
    text = text[:text.index("  during:")] + during.lstrip("\n") + text[text.index("\n# Expected seconds"):]
    path = tmp_path / "manifest.yaml"
    path.write_text(text.replace("project_dir: .", f"project_dir: {manifest.DEFAULT_PATH.parent}"))
    return manifest.load(path)


class LoggingStack:
    """Every service printed the same lines, each with the epoch second it was printed at."""

    def __init__(self, lines: list[tuple[float, str]]) -> None:
        self.lines = lines

    def logs(self, service: str, since: float, until: float) -> list[str]:
        return [text for t, text in self.lines if since <= t <= until]


def test_only_the_declared_errors_of_that_disruption_and_service_are_expected(tmp_path):
    m = load_with(tmp_path, DURING)
    stack = LoggingStack([(100.0, "ERROR POST /notes failed: ollama at http://ollama:11434 unreachable"),
                          (101.0, "ERROR POST /notes failed: a store is unavailable"),
                          (500.0, "ERROR long after every disruption")])
    pause = disruptions.Disruption("ollama-pause", "ollama", 99.0, 102.0)
    got = disruptions.scan(stack, m, "notes-service", [pause])
    assert [line for _, line, _ in got.expected] == ["ERROR POST /notes failed: ollama at http://ollama:11434 unreachable"]
    assert got.unexpected == [("ollama-pause of ollama", "ERROR POST /notes failed: a store is unavailable")]
    other = disruptions.Disruption("ollama-pause", "ollama-vision", 99.0, 102.0)  # of another Ollama: not declared
    assert len(disruptions.scan(stack, m, "notes-service", [other]).unexpected) == 2
    crash = disruptions.Disruption("crash", "ollama", 99.0, 102.0)  # the same line during another kind: not declared
    assert len(disruptions.scan(stack, m, "notes-service", [crash]).unexpected) == 2
    assert len(disruptions.scan(stack, m, "rag-service", [pause]).unexpected) == 2  # another service: not declared


def test_a_window_is_kept_even_when_its_block_fails():
    log: list[disruptions.Disruption] = []
    with pytest.raises(RuntimeError), disruptions.disrupting(log, "crash", "ollama"):
        raise RuntimeError("the test failed mid-disruption")
    assert log[0].end is not None and log[0].end >= log[0].start
    with pytest.raises(ValueError, match="not one of"), disruptions.disrupting(log, "earthquake", "ollama"):
        pass


def test_a_declaration_names_a_known_kind_a_known_service_and_why(tmp_path):
    with pytest.raises(ManifestError):
        load_with(tmp_path, DURING.replace("ollama-pause:", "ollama-paused:"))
    with pytest.raises(ManifestError, match="logs.during.ollama-pause.service names 'notes'"):
        load_with(tmp_path, DURING.replace("service: notes-service", "service: notes"))
    with pytest.raises(ManifestError):
        load_with(tmp_path, DURING.replace('why: "a note sent while its Ollama is frozen is answered 502 and logged"',
                                           'why: ""'))


def test_a_window_is_cut_into_plain_stretches_and_the_disruptions_inside_it():
    pause = disruptions.Disruption("dependency-pause", "every store", 20.0, 25.0)
    cut = disruptions.segments(10.0, 40.0, [pause, disruptions.Disruption("crash", "ollama", 100.0, 110.0)])
    assert cut == [(10.0, 19.0, None), (19.0, 30.0, pause), (30.0, 40.0, None)]
    assert disruptions.segments(10.0, 40.0, []) == [(10.0, 40.0, None)]


def test_a_line_in_two_windows_is_expected_when_either_disruption_declares_it(tmp_path):
    m = load_with(tmp_path, DURING)
    stack = LoggingStack([(104.0, "ERROR POST /notes failed: Ollama at http://ollama:11434 (OLLAMA_URL) unreachable")])
    restart = disruptions.Disruption("store-restart", "redis", 90.0, 100.0)  # its settle time reaches 105 s
    pause = disruptions.Disruption("ollama-pause", "ollama", 103.0, 110.0)
    got = disruptions.scan(stack, m, "notes-service", [restart, pause])
    assert got.unexpected == [] and [label for label, _, _ in got.expected] == ["ollama-pause of ollama"]
