"""Parsing Ollama's `[GIN]` access lines (the same for real Ollama and the stand-in)."""

from stackgate.evidence.accesslog import parse, parse_line

REAL = '[GIN] 2025/03/08 - 21:33:37 | 200 |     600.829µs |       127.0.0.1 | GET      "/api/tags"'


def test_a_real_ollama_line_is_parsed():
    a = parse_line(REAL)
    assert (a.status, a.client_ip, a.method, a.path) == (200, "127.0.0.1", "GET", "/api/tags")
    assert a.when.hour == 21 and a.latency == "600.829µs"


def test_a_line_with_a_docker_timestamp_prefix_is_parsed():
    assert parse_line("2025-03-08T21:33:37.1Z " + REAL.replace("127.0.0.1", "172.20.0.7")).client_ip == "172.20.0.7"


def test_other_lines_are_ignored():
    assert parse(["time=2025 level=INFO msg=hi", REAL, ""]) == [parse_line(REAL)]
