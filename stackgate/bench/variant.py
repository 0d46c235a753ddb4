"""Write a copy of stack/ with N more notes services (each declared in the manifest and the compose files only):
`python -m stackgate.bench.variant DIR [N]`. It proves that a bigger stack needs no code change, and `make bench`
times the 33-service one (N = 20) beside the 13-service stack."""

from __future__ import annotations

import copy
import shutil
import sys
from pathlib import Path

import yaml

from stackgate.core.paths import ROOT

STACK = ROOT / "stack"


def write_variant(target: Path, extra: int = 20) -> Path:
    """The variant's manifest path; services notes-2 .. notes-{extra+1} on ports 8200 + i."""
    shutil.copytree(STACK, target, ignore=shutil.ignore_patterns("__pycache__"))
    files = [target / f for f in ("docker-compose-separated.yml", "docker-compose.airgap.yml",
                                  "docker-compose-simple.yml", "docker-compose-simple.airgap.yml")]
    docs = [yaml.safe_load(f.read_text()) for f in files]
    manifest_file = target / "manifest.yaml"
    manifest = yaml.safe_load(manifest_file.read_text())
    for i in range(2, extra + 2):
        name, port = f"notes-{i}", 8198 + i
        for doc in docs:  # both layouts (the rollback keeps every service), with their overrides
            svc = copy.deepcopy(doc["services"]["notes-service"])
            if "ports" in svc:
                svc["ports"] = [f"${{STACK_BIND:-127.0.0.1}}:{port}:8100"]
            doc["services"][name] = svc
        spec = copy.deepcopy(manifest["services"]["notes-service"])
        spec["port"] = port
        manifest["services"][name] = spec
    manifest["services"]["frontend"]["page"].pop("rows")  # the frontend lists the services it was built with
    manifest["services"]["frontend"]["page"].pop("healthy")
    for f, doc in (*zip(files, docs), (manifest_file, manifest)):
        f.write_text(yaml.safe_dump(doc, sort_keys=False))
    return manifest_file


if __name__ == "__main__":
    print(write_variant(Path(sys.argv[1]), int(sys.argv[2]) if len(sys.argv) > 2 else 20))
