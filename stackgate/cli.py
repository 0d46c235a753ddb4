"""`python -m stackgate setup|images|clean|sweep`: the project's own setup and cleanup commands."""

from __future__ import annotations

import argparse
import os
import sys
import time

from stackgate.core.errors import StackgateError
from stackgate.engines import sweep
from stackgate.machine import dockerd
from stackgate.machine.apt import ensure_host_packages


def cmd_setup(args: argparse.Namespace) -> None:
    t0 = time.monotonic()
    dockerd.ensure_engine()
    dockerd.ensure_compose_plugin()
    dockerd.check_compose_exit_status()
    ensure_host_packages()
    if not args.no_images:
        from stackgate.machine.airgap import build_all
        build_all()
    print(f"setup: done in {time.monotonic() - t0:.1f}s")


def cmd_images(args: argparse.Namespace) -> None:
    from stackgate.machine.airgap import build_all
    build_all()


def cmd_clean(args: argparse.Namespace) -> None:
    if dockerd.docker_info() == {}:
        print("clean: no Docker engine answers; nothing to remove")
        return
    from stackgate.engines.swarm import sweep_swarm

    projects = sweep.sweep(only_orphans=False) + sweep_swarm(alive=lambda pid: pid == os.getpid())
    print(f"clean: removed {len(projects)} stackgate project(s)" if projects else "clean: nothing to remove")


def cmd_sweep(args: argparse.Namespace) -> None:
    from stackgate.engines.swarm import sweep_swarm

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
