"""What a compose stack says about itself, read from its merged compose model (and, optionally, the running stack):
each service's kind, ports, health path, volumes, which model server each app reaches through which variable, and
the models each server holds. Every inference keeps where it came from; what cannot be decided is a question."""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field
from urllib.parse import urlparse

from stackgate.evidence.composefile import environment, image_ref, named_volumes, published
from stackgate.evidence.ollama import normalise

STORES = {"postgres": "postgres", "redis": "redis", "chromadb/chroma": "chromadb", "chroma": "chromadb",
          "neo4j": "neo4j", "mongo": "mongodb", "mysql": "mysql", "mariadb": "mariadb", "qdrant/qdrant": "qdrant",
          "elasticsearch": "elasticsearch", "memcached": "memcached", "valkey/valkey": "valkey"}
STORE_PORTS = {5432: "postgres", 6379: "redis", 7474: "neo4j", 7687: "neo4j", 27017: "mongodb", 3306: "mysql",
               6333: "qdrant", 9200: "elasticsearch"}
VISION_OR_EMBEDDING = re.compile(r"(llava|bakllava|moondream|vision|minicpm-v|embed|minilm|bge-|nomic)", re.I)
MODEL_NAME = re.compile(r"^[a-z0-9][a-z0-9._/-]*(:[a-z0-9._-]+)?$", re.I)
NOT_MODEL_LISTS = {"OLLAMA_MODELS", "OLLAMA_MAX_LOADED_MODELS"}  # Ollama's model directory, a count
NOT_SERVERS = ("webui", "ui", "exporter", "commander", "express", "admin", "insight", "browser")  # tools beside them
HEALTH_URL = re.compile(r"https?://(?:127\.0\.0\.1|localhost|0\.0\.0\.0)(?::(\d+))?(/[^\s'\"|;&)]*)?")


@dataclass
class Fact:
    """One inferred value and where it came from (the comment a reviewer reads)."""

    value: object
    source: str


@dataclass
class Service:
    """A service as inferred: its kind, what it stands for and why, ports, health, volumes."""

    name: str
    kind: str                       # ollama | openai | store | frontend | app
    kind_source: str
    image: str
    port: Fact | None = None        # the published host port
    internal_port: int | None = None
    health: Fact | None = None
    volume: Fact | None = None      # the named data volume (stores) or model volume (Ollamas)
    models: Fact | None = None      # a model server's models
    routes: dict[str, Fact] = field(default_factory=dict)         # URL variable -> the server it reaches
    model_vars: dict[str, Fact] = field(default_factory=dict)     # model variable -> its URL variable
    depends_on: list[str] = field(default_factory=list)
    built: bool = False             # built from a Dockerfile here (its image tag is not an official pin)
    bases: list[str] = field(default_factory=list)  # repo:tag images its build arguments name (FROM them)


@dataclass
class Inference:
    """Everything `init` decided, and the questions it leaves a human."""

    services: dict[str, Service]
    questions: list[str] = field(default_factory=list)
    network: str = ""   # the compose network the services share (the manifest's compose.network)

    def servers(self) -> list[Service]:
        return [s for s in self.services.values() if s.kind in ("ollama", "openai")]


def words(value: object) -> list[str]:
    if isinstance(value, list):
        return [str(v) for v in value]
    try:
        return shlex.split(str(value or ""))
    except ValueError:
        return str(value or "").split()


def named(base: str, name: str) -> bool:
    """An image's last path segment is `name` or a variant of it ('ollama-vision', 'neo4j-standin'), not a tool
    beside it ('ollama-webui', 'redis_exporter', 'postgrest')."""
    return base == name or (base.startswith(name + "-") and not base.endswith(NOT_SERVERS))


def kind_of(name: str, svc: dict, config: dict) -> tuple[str, str]:
    """(kind, why) of one service from its image, build, command and ports."""
    repo, _ = image_ref(config, name)
    build = svc.get("build") or {}
    args = " ".join(str(v) for v in (build.get("args") or {}).values())
    command = " ".join(words(svc.get("entrypoint")) + words(svc.get("command")))
    base = repo.rsplit("/", 1)[-1]
    if "ollama/ollama" in args:
        return "ollama", f"built FROM {args.strip()} (a build argument)"
    if repo == "ollama/ollama" or named(base, "ollama"):
        return "ollama", f"image {repo}"
    if "ollama serve" in command:
        return "ollama", "its command runs `ollama serve`"
    if repo.startswith("vllm/") or "--served-model-name" in command or named(base, "vllm"):
        return "openai", f"image {repo}" if repo.startswith("vllm/") else "an OpenAI-compatible server (--served-model-name)"
    for prefix, store in STORES.items():
        if repo == prefix or named(base, prefix.rsplit("/", 1)[-1]):
            return "store", f"image {repo} ({store})"
    mounts = {str(v.get("target")) for v in svc.get("volumes") or [] if isinstance(v, dict)}
    for path, store in (("/var/lib/postgresql/data", "postgres"), ("/var/lib/mysql", "mysql"), ("/data/db", "mongodb")):
        if path in mounts:
            return "store", f"its data volume at {path} says {store}"
    first = (words(svc.get("entrypoint")) + words(svc.get("command")) or [""])[0].rsplit("/", 1)[-1]
    for word, store in (("postgres", "postgres"), ("redis-server", "redis"), ("chroma", "chromadb"),
                        ("neo4j", "neo4j"), ("mongod", "mongodb")):
        if first.startswith(word):
            return "store", f"its command runs {store} ({first})"
    targets = set(published(config, name).values()) | {int(p.get("target", 0)) for p in svc.get("expose") or []
                                                       if isinstance(p, dict)}
    for port, store in STORE_PORTS.items():
        if port in targets:
            return "store", f"listens on {store}'s port {port}"
    if re.search(r"(frontend|web|ui)$", name) or 3000 in targets or 80 in targets:
        return "frontend", f"its name{' and port' if 3000 in targets or 80 in targets else ''} say a web frontend"
    return "app", "not a model server or a known store"


def models_of(name: str, svc: dict, config: dict) -> Fact | None:
    """A model server's models: its MODELS-style variable, else the pulls of its entrypoint or command."""
    env = environment(config, name)
    for var, value in env.items():
        names = value.replace(",", " ").split()
        if (var.upper().endswith("MODELS") and var.upper() not in NOT_MODEL_LISTS and names
                and all(MODEL_NAME.match(m) and not m.startswith("/") and not m.isdigit() for m in names)):
            return Fact([normalise(m) for m in names], f"from {var} in {name}'s environment")
    command = words(svc.get("entrypoint")) + words(svc.get("command"))
    pulls = [command[i + 1] for i, w in enumerate(command[:-1]) if w == "pull"]
    if pulls:
        return Fact([normalise(m) for m in pulls], f"from the `ollama pull` lines of {name}'s command")
    served = [command[i + 1] for i, w in enumerate(command[:-1]) if w == "--served-model-name"]
    if served:
        after = command[command.index("--served-model-name") + 1:]
        names = [w for w in after[: next((i for i, w in enumerate(after) if w.startswith("--")), len(after))]]
        return Fact([normalise(m) for m in names or served], f"from --served-model-name in {name}'s command")
    return None


def health_of(name: str, svc: dict, port: int | None, env: dict[str, str]) -> Fact | None:
    """The health path a healthcheck asks for (an http://127.0.0.1:PORT/path in its test), else /health under a
    path prefix its environment sets (a *_PREFIX / *BASE_PATH / *ROOT_PATH variable that is a path)."""
    test = " ".join(words((svc.get("healthcheck") or {}).get("test")))
    for m in HEALTH_URL.finditer(test):
        if port is None or not m.group(1) or int(m.group(1)) == port:
            return Fact(m.group(2) or "/", f"from {name}'s healthcheck")
    for var, value in env.items():
        if re.search(r"(PREFIX|BASE_PATH|ROOT_PATH)$", var) and value.startswith("/"):
            return Fact(value.rstrip("/") + "/health", f"assumed /health under {var}={value} (check)")
    return None


def infer(config: dict) -> Inference:
    """The services of a merged compose model, classified, with their routes and models."""
    out = Inference({})
    for name, svc in config["services"].items():
        kind, why = kind_of(name, svc, config)
        repo, tag = image_ref(config, name)
        s = Service(name, kind, why, f"{repo}:{tag}" if tag else repo,
                    depends_on=sorted(svc.get("depends_on") or {}), built="build" in svc,
                    bases=[str(v) for v in ((svc.get("build") or {}).get("args") or {}).values()
                           if re.fullmatch(r"[a-z0-9][a-z0-9._/-]*:[A-Za-z0-9._-]+", str(v))])
        ports = published(config, name)
        if ports:
            host, inside = next(iter(ports.items()))
            s.port, s.internal_port = Fact(host, f"published {host}->{inside}"), inside
        volumes = named_volumes(config, name)
        if kind in ("ollama", "openai"):
            s.models = models_of(name, svc, config)
            mount = "/root/.ollama" if kind == "ollama" else next(iter(volumes), None)
            if mount in volumes:
                s.volume = Fact(volumes[mount], f"mounted at {mount}")
            if s.internal_port is None:
                s.internal_port = 11434 if kind == "ollama" else 8000
        elif volumes:
            mount, vol = next(iter(volumes.items()))
            s.volume = Fact(vol, f"mounted at {mount}")
        if kind in ("app", "frontend") and s.port:
            s.health = health_of(name, svc, s.internal_port, environment(config, name))
        out.services[name] = s
    _routes(config, out)
    for s in out.services.values():  # a "frontend" that calls a model server is an app (a `web` service, often)
        if s.kind == "frontend" and s.routes:
            s.kind, s.kind_source = "app", f"it reaches {', '.join(sorted({f.value for f in s.routes.values()}))}"
    shared = [set(svc.get("networks") or {"default": None}) for svc in config["services"].values()]
    common = sorted(set.intersection(*shared)) if shared else []
    out.network = common[0] if common else ""
    return out


def _routes(config: dict, out: Inference) -> None:
    servers = {s.name: s for s in out.servers()}
    for s in out.services.values():
        if s.kind not in ("app", "frontend"):
            continue
        env = environment(config, s.name)
        for var, value in env.items():
            url = urlparse(value) if "://" in value else None
            if url is None or not url.hostname:
                continue
            if url.hostname in servers:
                s.routes[var] = Fact(url.hostname, f"from {var} in {s.name}'s environment")
            elif url.hostname not in config["services"] and ("ollama" in var.lower() or "llm" in var.lower()
                                                              or url.port in (11434, 8000)):
                out.questions.append(f"{s.name}: {var}={value} names a host outside the compose project; is it a "
                                     "model server the gate should check?")
        for var, value in env.items():
            if var in s.routes or "://" in value or not MODEL_NAME.match(value) or "MODEL" not in var.upper():
                continue
            holders = [v for v, f in s.routes.items()
                       if servers[f.value].models and normalise(value) in servers[f.value].models.value]
            if len(holders) == 1:
                s.model_vars[var] = Fact(holders[0], f"{value} is held by {s.routes[holders[0]].value}, reached "
                                                     f"through {holders[0]}")
            elif len(holders) > 1:
                out.questions.append(f"{s.name}: {var}={value} is held by more than one server it reaches "
                                     f"({', '.join(holders)}); which one must serve it?")
            elif len(s.routes) == 1:
                only = next(iter(s.routes))
                s.model_vars[var] = Fact(only, f"its only model server URL; {value} is NOT in "
                                               f"{s.routes[only].value}'s models (check)")
                out.questions.append(f"{s.name}: {var}={value} is not among the models of {s.routes[only].value}")
    served: dict[str, list[str]] = {}
    for srv in servers.values():
        for m in (srv.models.value if srv.models else []):
            served.setdefault(m, []).append(srv.name)
        if srv.models is None:
            out.questions.append(f"{srv.name}: no MODELS-style variable or pull in its command; list its models")
    out.questions += [f"{m} is held by {', '.join(names)}: two servers serve the same model; is that intended?"
                      for m, names in served.items() if len(names) > 1]


def job_of(server: Service) -> str:
    """'vision' when every model it holds is a vision or embedding model, else 'llm'."""
    models = server.models.value if server.models else []
    return "vision" if models and all(VISION_OR_EMBEDDING.search(m) for m in models) else "llm"
