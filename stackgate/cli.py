"""`python -m stackgate setup|images|clean|sweep`: the project's own setup and cleanup commands."""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import time
from collections.abc import Callable

from . import engine, proc, sweep
from .errors import StackgateError

# Host tools the suite itself uses: debootstrap (base image), tesseract (stand-in unit tests),
# chromium (frontend check in a real browser).
HOST_PACKAGES = {"debootstrap": "debootstrap", "tesseract": "tesseract-ocr", "chromium": "chromium"}


def ensure_host_packages(log: Callable[[str], None] = print) -> list[str]:
    """apt-get install the host tools that are missing (root on Debian); return what was installed."""
    missing = [pkg for tool, pkg in HOST_PACKAGES.items() if shutil.which(tool) is None]
    if not missing:
        log("host: debootstrap, tesseract and chromium present")
        return []
    if os.geteuid() != 0 or not os.path.exists("/etc/debian_version"):
        raise StackgateError(f"host: missing {', '.join(missing)}; install them (apt-get install {' '.join(missing)})")
    log(f"host: installing {', '.join(missing)} with apt-get")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for argv in (["apt-get", "update", "-qq"],
                 ["apt-get", "install", "-y", "-qq", "--no-install-recommends", *missing]):
        res = proc.run(argv, timeout=1200, env=env)
        if res.returncode != 0:
            raise StackgateError(f"host: `{' '.join(argv[:3])}` failed: {res.stderr.strip()[-300:]}")
    return missing


def cmd_setup(args: argparse.Namespace) -> None:
    t0 = time.monotonic()
    engine.ensure_engine()
    engine.ensure_compose_plugin()
    engine.check_compose_exit_status()
    ensure_host_packages()
    if not args.no_images:
        from .airgap_images import build_all
        build_all()
    print(f"setup: done in {time.monotonic() - t0:.1f}s")


def cmd_images(args: argparse.Namespace) -> None:
    from .airgap_images import build_all
    build_all()


def cmd_clean(args: argparse.Namespace) -> None:
    if engine.docker_info() == {}:
        print("clean: no Docker engine answers; nothing to remove")
        return
    from .swarm import sweep_swarm

    projects = sweep.sweep(only_orphans=False) + sweep_swarm(alive=lambda pid: pid == os.getpid())
    print(f"clean: removed {len(projects)} stackgate project(s)" if projects else "clean: nothing to remove")


def cmd_sweep(args: argparse.Namespace) -> None:
    from .swarm import sweep_swarm

    sweep.sweep(only_orphans=True)
    sweep_swarm()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="stackgate", description=__doc__)
    sub = parser.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("setup", help="engine, compose plugin, host tools and airgap images")
    p.add_argument("--no-images", action="store_true", help="skip building the airgap images")
    p.set_defaults(fn=cmd_setup)
    sub.add_parser("images", help="build the airgap images (skips current ones)").set_defaults(fn=cmd_images)
    sub.add_parser("clean", help="remove every stackgate container, network and volume").set_defaults(fn=cmd_clean)
    sub.add_parser("sweep", help="remove leftovers of runs that are no longer alive").set_defaults(fn=cmd_sweep)
    args = parser.parse_args(argv)
    try:
        args.fn(args)
    except StackgateError as exc:
        print(f"stackgate: {exc}", file=sys.stderr)
        return 1
    return 0
