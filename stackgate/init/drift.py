"""`init --check`: a hand-written manifest against what init would generate from the same compose files: services
added or removed, kinds, app ports, routes and each model server's models that differ."""

from __future__ import annotations

from stackgate.manifest import Manifest


def manifest_facts(m: Manifest) -> dict[str, object]:
    """The comparable facts of a manifest (as render.facts gives them for an inference)."""
    return {"services": {n: s.kind for n, s in m.services.items()},
            "ports": {n: s.port for n, s in m.services.items() if s.port and s.kind != "ollama"},
            "routes": {n: dict(s.routes) for n, s in m.services.items() if s.routes},
            "models": {o.name: sorted(o.models) for o in m.ollamas.values()}}


def differences(written: dict, generated: dict) -> list[str]:
    """One line per difference between a manifest's facts and the generated ones."""
    out = []
    a, b = written["services"], generated["services"]
    out += [f"service {n} is in the compose files but not in the manifest (kind {b[n]})" for n in sorted(set(b) - set(a))]
    out += [f"service {n} is in the manifest but not in the compose files" for n in sorted(set(a) - set(b))]
    out += [f"service {n}: kind {a[n]} in the manifest, {b[n]} in the compose files" for n in sorted(set(a) & set(b))
            if a[n] != b[n]]
    for key, what in (("ports", "port"), ("routes", "routes"), ("models", "models")):
        x, y = written[key], generated[key]
        for n in sorted((set(x) | set(y)) & set(a) & set(b)):
            if x.get(n) != y.get(n):
                out.append(f"{what} of {n}: {x.get(n)} in the manifest, {y.get(n)} in the compose files")
    return out
