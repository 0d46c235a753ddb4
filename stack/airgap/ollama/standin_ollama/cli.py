"""The `ollama` command of the stand-in: serve, pull, list/ls, ps, show, rm, --version.

Exit codes and the messages a script sees follow Ollama's CLI.
"""

from __future__ import annotations

import json
import os
import sys
from datetime import UTC, datetime

import httpx

from . import BACKEND, VERSION

CONNECT_ERROR = "Error: could not connect to ollama server, run 'ollama serve' to start it"


def host() -> tuple[str, int]:
    """OLLAMA_HOST as (host, port); default 127.0.0.1:11434; 0.0.0.0 for clients means loopback."""
    raw = os.environ.get("OLLAMA_HOST", "127.0.0.1:11434").removeprefix("http://")
    name, _, port = raw.rpartition(":") if ":" in raw else (raw, "", "11434")
    return name or "127.0.0.1", int(port or 11434)


def base_url() -> str:
    name, port = host()
    return f"http://{'127.0.0.1' if name in ('0.0.0.0', '::', '') else name}:{port}"


def human_size(n: int) -> str:
    for unit, size in (("GB", 1e9), ("MB", 1e6), ("KB", 1e3)):
        if n >= size:
            return f"{n / size:.1f} {unit}"
    return f"{n} B"


def ago(iso: str) -> str:
    delta = (datetime.now(UTC) - datetime.fromisoformat(iso.replace("Z", "+00:00"))).total_seconds()
    for unit, secs in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if delta >= secs:
            n = int(delta // secs)
            return f"{n} {unit}{'s' if n != 1 else ''} ago"
    return "Less than a second ago" if delta < 1 else f"{int(delta)} seconds ago"


def table(rows: list[list[str]]) -> str:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return "\n".join("    ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows)


def serve() -> int:
    import uvicorn

    from .server import create_app

    name, port = host()
    stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    print(f'time={stamp} level=INFO source=standin msg="Listening on {name}:{port} (version {VERSION})"'
          f' backend="{BACKEND}"', file=sys.stderr, flush=True)
    if os.environ.get("OLLAMA_STANDIN_ADVERSARY"):
        print(f'time={stamp} level=WARN source=standin msg="adversary mode '
              f'{os.environ["OLLAMA_STANDIN_ADVERSARY"]}: every text answer is wrong on purpose (faults only)"',
              file=sys.stderr, flush=True)
    uvicorn.run(create_app(), host=name, port=port, log_level="warning", access_log=False)
    return 0


def pull(client: httpx.Client, name: str) -> int:
    with client.stream("POST", "/api/pull", json={"model": name}) as resp:
        for line in resp.iter_lines():
            if not line:
                continue
            msg = json.loads(line)
            if "error" in msg:
                print(f"Error: {msg['error']}", file=sys.stderr)
                return 1
            status = msg.get("status", "")
            if "total" in msg:
                status += f" {100 * msg.get('completed', 0) // max(1, msg['total'])}%"
            print(status, flush=True)
    return 0


def modelfile(text: str) -> tuple[str, dict]:
    """FROM and PARAMETER lines of a Modelfile (what the stand-in's create supports), values typed as Ollama's."""
    base, params = "", {}
    for line in text.splitlines():
        words = line.strip().split(None, 2)
        if not words or words[0].startswith("#"):
            continue
        if words[0].upper() == "FROM" and len(words) >= 2:
            base = words[1]
        elif words[0].upper() == "PARAMETER" and len(words) == 3:
            value = words[2].strip()
            params[words[1]] = int(value) if value.lstrip("-").isdigit() else value
        else:
            raise ValueError(f"unsupported Modelfile line (the stand-in takes FROM and PARAMETER): {line.strip()}")
    if not base:
        raise ValueError("no FROM line")
    return base, params


def create(client: httpx.Client, rest: list[str]) -> int:
    if len(rest) != 3 or rest[1] != "-f":
        print("Error: usage: ollama create MODEL -f Modelfile", file=sys.stderr)
        return 1
    try:
        with open(rest[2], encoding="utf-8") as fh:
            base, params = modelfile(fh.read())
    except (OSError, ValueError) as exc:
        print(f"Error: {exc}", file=sys.stderr)
        return 1
    resp = client.post("/api/create", json={"model": rest[0], "from": base, "parameters": params, "stream": False})
    if resp.status_code != 200:
        print(f"Error: {resp.json().get('error', resp.text)}", file=sys.stderr)
        return 1
    print("success")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in ("-h", "--help", "help"):
        print("Usage:\n  ollama [command]\n\nAvailable Commands:\n  serve, pull, create, list, ps, show, rm\n"
              f"\n{BACKEND}")
        return 0
    cmd, rest = args[0], args[1:]
    if cmd == "serve":
        return serve()
    client = httpx.Client(base_url=base_url(), timeout=httpx.Timeout(600, connect=5))
    try:
        if cmd in ("-v", "--version"):
            try:
                v = client.get("/api/version").json()["version"]
                print(f"ollama version is {v}")
            except httpx.TransportError:
                print("Warning: could not connect to a running Ollama instance", file=sys.stderr)
                print(f"Warning: client version is {VERSION}", file=sys.stderr)
            return 0
        if cmd == "pull":
            if len(rest) != 1:
                print(f"Error: accepts 1 arg(s), received {len(rest)}", file=sys.stderr)
                return 1
            return pull(client, rest[0])
        if cmd == "create":
            return create(client, rest)
        if cmd in ("list", "ls"):
            models = client.get("/api/tags").json()["models"]
            rows = [["NAME", "ID", "SIZE", "MODIFIED"]] + [
                [m["name"], m["digest"][:12], human_size(m["size"]), ago(m["modified_at"])] for m in models]
            print(table(rows))
            return 0
        if cmd == "ps":
            models = client.get("/api/ps").json()["models"]
            rows = [["NAME", "ID", "SIZE", "PROCESSOR", "UNTIL"]] + [
                [m["name"], m["digest"][:12], human_size(m["size"]), "100% CPU", "4 minutes from now"]
                for m in models]
            print(table(rows))
            return 0
        if cmd in ("show", "rm"):
            if not rest:
                print("Error: accepts 1 arg(s), received 0", file=sys.stderr)
                return 1
            path, method = ("/api/show", "POST") if cmd == "show" else ("/api/delete", "DELETE")
            resp = client.request(method, path, json={"model": rest[0]})
            if resp.status_code != 200:
                print(f"Error: {resp.json().get('error', resp.text)}", file=sys.stderr)
                return 1
            print(json.dumps(resp.json(), indent=2) if cmd == "show" else f"deleted '{rest[0]}'")
            return 0
        print(f'Error: unknown command "{cmd}" for "ollama"', file=sys.stderr)
        return 1
    except httpx.TransportError:
        print(CONNECT_ERROR, file=sys.stderr)
        return 1
    finally:
        client.close()


if __name__ == "__main__":
    sys.exit(main())
