"""The airgap profile's image graph: which images exist, what each builds FROM, in what order."""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Callable
from pathlib import Path

from . import proc
from .errors import ImageBuildError
from .images import ROOT, STACK, ImageSpec, base_recipe, build_base, build_image, image_recipe

BUILD = ROOT / "build"
WHEELS = BUILD / "wheels"
RUNTIME_DIR = STACK / "airgap" / "runtime"
RUNTIME = "stackgate/airgap-runtime:latest"
GRAPH = STACK / "airgap" / "images.yaml"


def specs(graph: Path = GRAPH) -> tuple[ImageSpec, ...]:
    """The image graph of stack/airgap/images.yaml, in build order."""
    import yaml

    return tuple(ImageSpec(i["ref"], STACK / i["dockerfile"], STACK / i["context"], dict(i.get("args") or {}))
                 for i in yaml.safe_load(graph.read_text()))


def ensure_wheelhouse(log: Callable[[str], None] = print) -> None:
    """pip-wheel the runtime requirements into build/wheels (PyPI only; cached by pip)."""
    stamp = WHEELS / ".requirements"
    req = (RUNTIME_DIR / "requirements.txt").read_text()
    if stamp.exists() and stamp.read_text() == req:
        log("images: wheelhouse is current; reused")
        return
    WHEELS.mkdir(parents=True, exist_ok=True)
    log("images: building the wheelhouse from PyPI (pip wheel)")
    env = {k: v for k, v in os.environ.items() if k != "PIP_FIND_LINKS"}
    env["PIP_CONFIG_FILE"] = os.devnull  # the host's pip config points at local indexes
    res = proc.run([sys.executable, "-m", "pip", "wheel", "-q", "-w", str(WHEELS),
                    "-r", str(RUNTIME_DIR / "requirements.txt")], timeout=1800, env=env)
    if res.returncode != 0:
        raise ImageBuildError(f"images: pip wheel failed: {res.stderr.strip()[-400:]}")
    stamp.write_text(req)


def runtime_context() -> Path:
    """Assemble the runtime build context: Dockerfile's folder + the wheelhouse (hard links)."""
    ctx = BUILD / "runtime-context"
    shutil.rmtree(ctx, ignore_errors=True)
    shutil.copytree(RUNTIME_DIR, ctx)
    shutil.copytree(WHEELS, ctx / "wheels", copy_function=os.link, ignore=shutil.ignore_patterns(".*"))
    return ctx


def build_all(log: Callable[[str], None] = print) -> list[str]:
    """Build every airgap image in dependency order, skipping the current ones; return the refs."""
    recipes = {build_base(log): base_recipe()}
    for spec in specs():
        recipe = spec.recipe(recipes)
        if spec.ref == RUNTIME and image_recipe(spec.ref) != recipe:
            ensure_wheelhouse(log)
            build_image(spec, recipe, log, context=runtime_context())
        else:
            build_image(spec, recipe, log)
        recipes[spec.ref] = recipe
    return list(recipes)
