"""Reading a manifest (stack/manifest.yaml): YAML, `extends`, the JSON Schema, then the typed model."""

from __future__ import annotations

import re
import string
from dataclasses import replace
from pathlib import Path
from typing import Any

import yaml

from stackgate.core.errors import ManifestError
from stackgate.core.metrics import METRICS

from .model import KINDS, ExpectedError, Gate, Manifest, OllamaSpec, OptionalSkip, RollbackTarget, ServiceSpec, Suppression
from .requests import Check, Request, Roundtrip, Step
from .sections import History, Isolation, MaySet, Memory, ModelMemory, Phrasing, Scale

DEFAULT_PATH = Path("stack") / "manifest.yaml"  # relative to where pytest runs; --manifest names another


def _need(data: dict, key: str, where: str) -> Any:
    if not isinstance(data, dict) or key not in data:
        raise ManifestError(f"manifest: {where} needs '{key}'")
    return data[key]


def _regex(text: str, where: str) -> re.Pattern[str]:
    try:
        return re.compile(text)
    except re.error as exc:
        raise ManifestError(f"manifest: {where} is not a valid regex: {exc}") from exc


def rollback_target(m: Manifest) -> RollbackTarget | None:
    """Where a rollback moves this stack, described by a manifest of its own: another manifest's deployment
    (`rollback.manifest`), or this manifest's simple layout as one Ollama that serves every model and that
    every route points at; None when the manifest declares neither."""
    if m.rollback_manifest:
        return RollbackTarget(load(m.path.parent / m.rollback_manifest), "separated")
    if "simple" not in m.layouts or m.rollback_ollama not in m.ollamas:
        return None
    one = replace(m.ollamas[m.rollback_ollama], models=m.rollback_models, must_not_hold=())
    services = {n: replace(s, routes={v: one.name for v in s.routes}) for n, s in m.services.items()
                if n not in m.ollamas or n == one.name}
    return RollbackTarget(replace(m, ollamas={one.name: one}, services=services), "simple")



def load(path: str | Path | None = None) -> Manifest:
    """Read and validate a manifest; ManifestError (one line) for anything missing or inconsistent."""
    path = Path(path or DEFAULT_PATH).resolve()
    try:
        raw = yaml.safe_load(path.read_text())
    except FileNotFoundError:
        raise ManifestError(f"manifest: {path} does not exist") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f" at line {mark.line + 1}" if mark else ""
        raise ManifestError(f"manifest: {path} is not valid YAML{at}: {getattr(exc, 'problem', exc)}") from None
    if not isinstance(raw, dict):
        raise ManifestError(f"manifest: {path} must be a mapping")
    if raw.get("extends"):
        base = path.parent / str(raw.pop("extends"))
        try:
            raw = merged(yaml.safe_load(base.read_text()), raw)
        except (OSError, yaml.YAMLError) as exc:
            raise ManifestError(f"manifest: {path} extends {base}, which cannot be read: {exc}") from None
    validate(raw, path)
    compose = _need(raw, "compose", "the manifest")
    ollamas = {}
    for name, o in (_need(raw, "ollamas", "the manifest") or {}).items():
        where = f"ollamas.{name}"
        ollamas[name] = OllamaSpec(name, int(_need(o, "port", where)), str(_need(o, "internal_url", where)),
                                   str(_need(o, "job", where)), str(_need(o, "volume", where)),
                                   tuple(_need(o, "models", where)), tuple(o.get("must_not_hold", ())),
                                   str(o.get("models_env", "MODELS")), str(o.get("api", "ollama")))
    services = {}
    for name, s in (_need(raw, "services", "the manifest") or {}).items():
        kind = _need(s, "kind", f"services.{name}")
        if kind not in KINDS:
            raise ManifestError(f"manifest: services.{name}.kind is {kind!r}; expected one of {', '.join(KINDS)}")
        services[name] = ServiceSpec(name, kind, s.get("port"), s.get("health", "/health"),
                                     dict(s.get("routes") or {}), dict(s.get("models") or {}), s.get("volume"),
                                     tuple(Request.parse(r, name) for r in s.get("probe") or []),
                                     {"path": "/", **(s.get("page") or {})} if kind == "frontend" else {},
                                     tuple(s["health_covers"]) if s.get("health_covers") is not None else None)
    for svc in services.values():
        for var, target in svc.routes.items():
            if target not in ollamas:
                raise ManifestError(f"manifest: services.{svc.name}.routes.{var} names {target!r}, "
                                    f"which is not an Ollama ({', '.join(ollamas)})")
        for var, url_var in svc.models.items():
            if url_var not in svc.routes:
                raise ManifestError(f"manifest: services.{svc.name}.models.{var} names {url_var!r}, "
                                    f"which is not one of its routes")
    for svc in services.values():
        for req in svc.probe:
            _known(req.service, services, f"services.{svc.name}.probe")
        for dep in svc.health_covers or ():
            _known(dep, services, f"services.{svc.name}.health_covers")
    roundtrips = {n: parse_roundtrip(n, r) for n, r in (raw.get("roundtrips") or {}).items()}
    for rt in roundtrips.values():
        if rt.metric not in METRICS:
            raise ManifestError(f"manifest: roundtrips.{rt.name}.metric is {rt.metric!r}, not a known metric")
        for step in rt.steps:
            if step.request is not None:
                _known(step.request.service, services, f"roundtrips.{rt.name}.steps.{step.id}.service")
    missing = [o for o in ollamas if o not in services]
    if missing:
        raise ManifestError(f"manifest: Ollama(s) {', '.join(missing)} are not listed under services")
    rollback = raw.get("rollback") or {"ollama": "", "models": []}
    if rollback.get("manifest") and not (path.parent / str(rollback["manifest"])).is_file():
        raise ManifestError(f"manifest: rollback.manifest names {rollback['manifest']}, which is not a file "
                            f"beside {path.name}")
    logs = raw.get("logs") or {}
    for kind, entries in (logs.get("during") or {}).items():
        for e in entries or []:
            _known(str(e["service"]), services, f"logs.during.{kind}.service")
            if e.get("of"):
                _known(str(e["of"]), services, f"logs.during.{kind}.of")
    return Manifest(
        path=path,
        project_dir=(path.parent / compose.get("project_dir", ".")).resolve(),
        layouts={k: tuple(compose[k]) for k in ("separated", "simple") if k in compose},
        profiles={p: {k: tuple(v) for k, v in (d or {}).items()} for p, d in (compose.get("profiles") or {}).items()},
        startup_budget_s=_budgets(compose.get("startup_timeout_s", 600)),
        network=str(compose.get("network", "default")),
        host=str(compose.get("host", "localhost")),
        ollamas=ollamas,
        services=services,
        rollback_ollama=str(rollback.get("ollama", "")),
        rollback_models=tuple(rollback.get("models", ())),
        rollback_manifest=str(rollback.get("manifest", "")),
        rollback_keeps=tuple(_keeps(rollback.get("keeps") or [], roundtrips)),
        roundtrips=roundtrips,
        error_pattern=_regex(logs.get("error_pattern", r"(?i)\berror\b"), "logs.error_pattern"),
        allow=tuple(_regex(a, "logs.allow") for a in logs.get("allow") or []),
        expected_errors=tuple(ExpectedError(kind, str(e["service"]), _regex(e["pattern"], f"logs.during.{kind}"),
                                            " ".join(str(e["why"]).split()), str(e.get("of", "")))
                              for kind, entries in (logs.get("during") or {}).items() for e in entries or []),
        timeline_s={k: {s: float(v) for s, v in (t or {}).items()} for k, t in (raw.get("timeline_s") or {}).items()},
        gates=_gates(raw.get("gates") or {}),
        optional_skips=tuple(_optional_skip(o, i) for i, o in enumerate(raw.get("optional_skips") or [])),
        images={str(k): str(v) for k, v in (raw.get("images") or {}).items()},
        suppressions=tuple(_suppression(x, i) for i, x in enumerate((raw.get("security") or {}).get("suppress") or [])),
        versions=dict(raw.get("versions") or {}),
        exposed_ollamas={str(k): str(v) for k, v in ((raw.get("security") or {}).get("exposed_ollamas") or {}).items()},
        isolation=_isolation(raw.get("isolation"), services),
        scale=_scale(raw.get("scale"), services, ollamas),
        history=_history(raw.get("history") or {}),
        phrasings=_phrasings((raw.get("facts") or {}).get("phrasings") or []),
        memory=_memory(raw.get("memory")),
        rollback_volume_held={str(k): tuple(str(m) for m in v) for k, v in (rollback.get("volume_held") or {}).items()},
        airgap_may_set=(None if "airgap_override" not in raw else tuple(
            MaySet(str(x["key"]), str(x["why"]), tuple(x.get("services") or ()))
            for x in (raw.get("airgap_override") or {}).get("may_set") or [])),
    )


def _memory(raw: dict | None) -> Memory | None:
    if not raw:
        return None
    models = {(str(k) if ":" in str(k) else f"{k}:latest"): ModelMemory(float(v["weights_gib"]), float(v["kv_gib_per_slot"]))
              for k, v in raw["models"].items()}
    given = {k: raw.get(k) for k in ("per_model_overhead_gib", "headroom_gib")}
    return Memory(models, **{k: float(v) for k, v in given.items() if v is not None}, source=str(raw.get("source", "")))


def _scale(raw: dict | None, services: dict, ollamas: dict) -> Scale | None:
    if not raw:
        return None
    for name in (*raw["replicas"], *raw["drive"]):
        if name not in ollamas:
            raise ManifestError(f"manifest: scale names {name!r}, which is not an Ollama ({', '.join(ollamas)})")
    missing = [o for o in raw["replicas"] if o not in raw["drive"]]
    if missing:
        raise ManifestError(f"manifest: scale.drive needs a request for {', '.join(missing)} (what makes an app call it)")
    drive = {o: Request.parse(r) for o, r in raw["drive"].items()}
    for req in drive.values():
        _known(req.service, services, "scale.drive")
    burst, loss = raw.get("burst") or {}, raw.get("replica_loss") or {}
    given = {"requests": burst.get("requests"), "workers": burst.get("workers"), "max_failed": loss.get("max_failed"),
             "recover_s": loss.get("recover_s")}
    return Scale(str(raw["file"]), {str(k): int(v) for k, v in raw["replicas"].items()}, drive,
                 **{k: float(v) if k == "recover_s" else int(v) for k, v in given.items() if v is not None})


RESERVED_WORDS = frozenset({"number", "vendor", "kind", "line", "lines", "phrasing"})


def _phrasings(raw: list[dict]) -> tuple[Phrasing, ...]:
    """facts.phrasings: each must name the same words (every template renders whichever a run draws)."""
    if not raw:
        return (Phrasing("plain"),)
    out = tuple(Phrasing(str(p["id"]), str(p.get("vendor", "ACME")), tuple(p.get("others") or ("GLOBEX", "INITECH")),
                         {str(k): str(v) for k, v in (p.get("words") or {}).items()},
                         tuple(str(t) for t in p.get("terms") or ()), bool(p.get("drawn", True))) for p in raw)
    for p in out:
        taken = [w for w in p.words if w in RESERVED_WORDS or w.endswith(("_b", "_c"))]
        if taken:
            raise ManifestError(f"manifest: facts.phrasings {p.id!r} names {', '.join(taken)}: the round-trips' own "
                                f"values ({', '.join(sorted(RESERVED_WORDS))}, and *_b / *_c) cannot be a phrasing's words")
        for name, template in p.words.items():
            fields = {f for _, f, *_ in string.Formatter().parse(template) if f}
            if fields - {"number", "vendor"}:
                raise ManifestError(f"manifest: facts.phrasings {p.id!r}.words.{name} names "
                                    f"{', '.join(sorted(fields - {'number', 'vendor'}))}: a phrasing's words are "
                                    f"templates over {{number}} and {{vendor}} only")
    first = out[0]
    for p in out[1:]:
        if set(p.words) != set(first.words):
            differ = sorted(set(p.words) ^ set(first.words))
            raise ManifestError(f"manifest: facts.phrasings {p.id!r} and {first.id!r} name different words "
                                f"({', '.join(differ)}): every phrasing must name the same ones")
    if not any(p.drawn for p in out):
        raise ManifestError("manifest: facts.phrasings: every phrasing says drawn: false; a run needs one to draw")
    ids = [p.id for p in out]
    if len(set(ids)) != len(ids):
        raise ManifestError(f"manifest: facts.phrasings ids repeat: {', '.join(ids)}")
    return out


def _history(raw: dict) -> History:
    bounds = raw.get("bounds") or {}
    startup, step = bounds.get("startup") or {}, bounds.get("step_latency") or {}
    given = {"baseline_runs": raw.get("baseline_runs"), "min_baseline_runs": raw.get("min_baseline_runs"),
             "unstable_window": raw.get("unstable_window"),
             "startup_ratio": startup.get("ratio"), "startup_slack_s": startup.get("slack_s"),
             "step_ratio": step.get("ratio"), "step_slack_s": step.get("slack_s"),
             "new_security_findings": bounds.get("new_security_findings")}
    return History(**{k: v for k, v in given.items() if v is not None})


def _isolation(raw: dict | None, services: dict) -> Isolation | None:
    if not raw:
        return None
    timed = tuple(Request.parse(r) for r in raw["timed"])
    load = tuple(Request.parse(r) for r in raw["load"])
    for req in (*timed, *load):
        _known(req.service, services, "isolation")
    bound = raw.get("bound") or {}
    given = {"samples": raw.get("samples"), "workers": raw.get("workers"), "ratio": bound.get("ratio"),
             "slack_s": bound.get("slack_s")}
    return Isolation(timed, load, **{k: int(v) if k in ("samples", "workers") else float(v)
                                     for k, v in given.items() if v is not None})


def parse_roundtrip(name: str, raw: dict) -> Roundtrip:
    steps = []
    for s in raw["steps"]:
        req = Request.parse(s["request"], s.get("service"), s.get("expect")) if "request" in s else None
        steps.append(Step(s["id"], s["title"], req, bool(s.get("writes")), dict(s.get("save") or {}),
                          tuple(Check.parse(c) for c in s.get("checks") or [])))
    doc = raw.get("document") or {}
    return Roundtrip(name, raw["metric"], tuple(steps), tuple(doc.get("kinds") or ()), tuple(doc.get("lines") or ()))


def merged(base: Any, over: Any) -> Any:
    """over laid on base (`extends`): mappings merge key by key, a null removes the key, anything else replaces."""
    if not isinstance(base, dict) or not isinstance(over, dict):
        return over
    out = dict(base)
    for key, value in over.items():
        if value is None:
            out.pop(key, None)
        else:
            out[key] = merged(base.get(key), value)
    return out


SCHEMA = Path(__file__).resolve().parent / "data" / "manifest.schema.json"


def validate(raw: dict, path: Path) -> None:
    """The manifest against its JSON Schema (stackgate/manifest/data/manifest.schema.json): one line naming the key.
    An unknown key is named itself, with the closest known one ("did you mean"), not as the key then missing."""
    import json

    import jsonschema

    validator = jsonschema.Draft202012Validator(json.loads(SCHEMA.read_text()))
    errors = list(validator.iter_errors(raw))
    unknown = [e for e in errors if e.validator == "additionalProperties" and isinstance(e.instance, dict)]
    if unknown:
        raise ManifestError(f"manifest: {path.name}: {unknown_key(min(unknown, key=lambda e: len(e.absolute_path)))}")
    error = jsonschema.exceptions.best_match(errors)
    if error is not None:
        raise ManifestError(f"manifest: {path.name}: {_where(error.absolute_path) or '(top level)'}: "
                            f"{' '.join(error.message.split())[:300]}")


def _where(parts) -> str:  # noqa: ANN001 - a jsonschema path (deque of keys and indices)
    return "".join(f"[{k}]" if isinstance(k, int) else f".{k}" for k in parts).lstrip(".")


def unknown_key(error) -> str:  # noqa: ANN001 - a jsonschema ValidationError of additionalProperties
    """'unknown key 'servces' at the top level; did you mean 'services'?'"""
    import difflib

    known = list(error.schema.get("properties") or {})
    extra = sorted(k for k in error.instance if k not in known and not any(
        re.search(p, k) for p in (error.schema.get("patternProperties") or {})))
    key = extra[0] if extra else "?"
    where = _where(error.absolute_path)
    guess = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
    return (f"unknown key {key!r} " + (f"in {where}" if where else "at the top level")
            + (f"; did you mean {guess[0]!r}?" if guess else f"; known keys: {', '.join(known)}"))


def _known(service: str, services: dict, where: str) -> None:
    if service not in services:
        raise ManifestError(f"manifest: {where} names {service!r}, which is not a service of the manifest")


def _keeps(names: list[str], roundtrips: dict[str, Roundtrip]) -> list[str]:
    unknown = [n for n in names if n not in roundtrips]
    if unknown:
        raise ManifestError(f"manifest: rollback.keeps names {', '.join(unknown)}, not round-trips of the manifest")
    return names


def _budgets(raw: object) -> dict[str, dict[str, float]]:
    """compose.startup_timeout_s: one number, or first_run / later_start (+ by_profile overrides)."""
    if isinstance(raw, (int, float)):
        return {"": {"first_run": float(raw), "later_start": float(raw)}}
    if not isinstance(raw, dict) or not {"first_run", "later_start"} <= set(raw):
        raise ManifestError("manifest: compose.startup_timeout_s needs first_run and later_start (seconds)")
    out = {"": {k: float(raw[k]) for k in ("first_run", "later_start")}}
    for profile, b in (raw.get("by_profile") or {}).items():
        out[profile] = {k: float(v) for k, v in (b or {}).items() if k in ("first_run", "later_start")}
    return out


def _suppression(raw: dict, i: int) -> Suppression:
    where = f"security.suppress[{i}]"
    why = " ".join(str(_need(raw, "why", where)).split())
    if not why:
        raise ManifestError(f"manifest: {where}.why must say why the finding is acceptable")
    return Suppression(str(_need(raw, "rule", where)), why, tuple(raw.get("services") or ()))


def _gates(raw: dict) -> dict[str, Gate]:
    gates = {}
    for name, g in raw.items():
        metrics = tuple(_need(g, "metrics", f"gates.{name}"))
        unknown = [m for m in metrics if m not in METRICS]
        if unknown:
            raise ManifestError(f"manifest: gates.{name}.metrics names unknown metric(s) {', '.join(unknown)}; "
                                f"known: {', '.join(METRICS)}")
        gates[name] = Gate(name, metrics, float(g.get("watch_logs_s", 0)))
    return gates


def _optional_skip(raw: dict, i: int) -> OptionalSkip:
    where = f"optional_skips[{i}]"
    metric = str(_need(raw, "metric", where))
    if metric not in METRICS:
        raise ManifestError(f"manifest: {where}.metric is {metric!r}, not a known metric")
    why = str(_need(raw, "why", where)).strip()
    if not why:
        raise ManifestError(f"manifest: {where}.why must say why the skip is acceptable")
    return OptionalSkip(metric, _regex(str(_need(raw, "reason", where)), f"{where}.reason"), why)
