"""Debian packages on this host: the one `apt-get update && apt-get install` (root on Debian), and the host tools
the suite itself uses."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Sequence
from pathlib import Path

from stackgate.core import proc
from stackgate.core.errors import StackgateError

Runner = Callable[..., object]
# Host tools the suite itself uses: debootstrap (base image), tesseract (stand-in unit tests), chromium (frontend
# check in a real browser).
HOST_PACKAGES = {"debootstrap": "debootstrap", "tesseract": "tesseract-ocr", "chromium": "chromium"}


def can_install() -> bool:
    """True when this process may install Debian packages (root on Debian)."""
    return os.geteuid() == 0 and Path("/etc/debian_version").exists()


def install(packages: Sequence[str], error: type[StackgateError] = StackgateError, what: str = "apt",
            run: Runner = proc.run, timeout: float = 1200, recommends: bool = True) -> None:
    """`apt-get update` then `apt-get install -y` the packages (non-interactive); error (one line, naming the
    command and the end of its stderr) when either fails."""
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    install_argv = ["apt-get", "install", "-y", "-qq", *([] if recommends else ["--no-install-recommends"])]
    for argv in (["apt-get", "update", "-qq"], [*install_argv, *packages]):
        res = run(argv, timeout=timeout, env=env)
        if res.returncode != 0:
            raise error(f"{what}: `{' '.join(argv[:3])} {' '.join(packages) if 'install' in argv else ''}`"
                        f" failed: {(res.stderr or '').strip()[-300:]}")


def ensure_host_packages(log: Callable[[str], None] = print) -> list[str]:
    """Install the host tools that are missing (root on Debian); return what was installed."""
    missing = [pkg for tool, pkg in HOST_PACKAGES.items() if shutil.which(tool) is None]
    if not missing:
        log("host: debootstrap, tesseract and chromium present")
        return []
    if not can_install():
        raise StackgateError(f"host: missing {', '.join(missing)}; install them (apt-get install {' '.join(missing)})")
    log(f"host: installing {', '.join(missing)} with apt-get")
    install(missing, what="host", recommends=False)
    return missing
