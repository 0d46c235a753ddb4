"""What a site keeps for a rollback: the rollback layout's Ollama model volumes from before the migration. Read
(never written) when they exist; created and filled when absent, as the site would have had them, and said so.
A model the layout's entrypoint must hold that is not in its kept volume is a pull the rollback needs."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import PurePosixPath

import docker

from stackgate.manifest import Manifest

from .composefile import environment, image_ref, models_pulled, named_volumes
from .ollama import normalise

MODEL_DIR = "/root/.ollama"
# serve in the background, wait until it answers, pull every model given (a site's state before the migration)
FILL = ('ollama serve >/dev/null 2>&1 & for i in $(seq 1 240); do ollama list >/dev/null 2>&1 && break; sleep 0.25; '
        'done; for m in "$@"; do ollama pull "$m" >/dev/null || { echo "pull of $m failed" >&2; exit 1; }; done')


@dataclass(frozen=True)
class PullNeed:
    """One Ollama of the rollback layout: the models it must hold, those its kept volume held, and what is missing."""

    ollama: str
    volume: str
    needs: tuple[str, ...]
    held: tuple[str, ...]
    created: bool          # the volume was absent: the gate created it holding `held` (a site's pre-migration state)

    @property
    def missing(self) -> list[str]:
        return [m for m in self.needs if m not in self.held]

    def gib(self, manifest: Manifest) -> float | None:
        """The download size of the missing models (manifest memory weights), None when one is not sized."""
        sizes = manifest.memory.models if manifest.memory else {}
        if any(m not in sizes for m in self.missing):
            return None
        return sum(sizes[m].weights_gib for m in self.missing)


def models_in(client: docker.DockerClient, volume: str, image: str) -> set[str]:
    """name:tag of every model manifest in an Ollama model volume (read-only, no network)."""
    out = client.containers.run(image, entrypoint=["sh", "-c", f"find {MODEL_DIR}/models/manifests -mindepth 4 "
                                                   "-maxdepth 4 -type f 2>/dev/null || true"],
                                volumes={volume: {"bind": MODEL_DIR, "mode": "ro"}}, remove=True, network_mode="none",
                                stderr=False)
    found = set()
    for line in out.decode(errors="replace").splitlines():
        path = PurePosixPath(line.strip())
        if line.strip() and path.suffix not in (".tmp", ".partial"):
            namespace = path.parent.parent.name  # manifests/<registry>/<namespace>/<name>/<tag>
            prefix = "" if namespace == "library" else f"{namespace}/"
            found.add(normalise(f"{prefix}{path.parent.name}:{path.name}"))
    return found


def fill(client: docker.DockerClient, project: str, key: str, volume: str, image: str, models: list[str],
         env: dict[str, str]) -> None:
    """Create the project's volume `key` and pull models into it with the layout's own Ollama image."""
    client.volumes.create(volume, labels={"com.docker.compose.project": project, "com.docker.compose.volume": key})
    client.containers.run(image, entrypoint=["bash", "-c", FILL, "fill"], command=models, environment=env,
                          volumes={volume: {"bind": MODEL_DIR, "mode": "rw"}}, remove=True)


def prepare(client: docker.DockerClient, project: str, target: Manifest, config: dict,
            held_before: dict[str, tuple[str, ...]]) -> list[PullNeed]:
    """For each Ollama of the rollback layout (its merged compose model `config`): read its kept model volume, or
    create it holding `held_before[ollama]` (default: every model its MODELS lists) when the site has none."""
    needs = []
    for spec in (o for o in target.ollamas.values() if o.api == "ollama" and o.name in config["services"]):
        key = named_volumes(config, spec.name).get(MODEL_DIR)
        if key is None:
            continue
        declared = (config.get("volumes") or {}).get(key) or {}  # `config` names volumes after its own project:
        volume = declared["name"] if declared.get("external") else f"{project}_{key}"  # the run's project instead
        image = ":".join(image_ref(config, spec.name))
        must = tuple(sorted(models_pulled(config, spec.name)))
        try:
            client.volumes.get(volume)
            created, held = False, tuple(sorted(models_in(client, volume, image)))
        except docker.errors.NotFound:
            held = tuple(normalise(m) for m in held_before.get(spec.name, must))
            env = {k: v for k, v in environment(config, spec.name).items() if k.startswith("OLLAMA_")}
            fill(client, project, key, volume, image, list(held), {**env, "OLLAMA_STANDIN_REGISTRY": "reachable"})
            created, held = True, tuple(sorted(models_in(client, volume, image)))
        needs.append(PullNeed(spec.name, volume, must, held, created))
    return needs
