"""`python -m stackgate setup|images|clean|sweep|init|history|compare`: the project's own setup and cleanup commands, and
the history of gate runs."""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from stackgate.core.errors import StackgateError
from stackgate.core.paths import reports_dir
from stackgate.engines import sweep
from stackgate.machine import dockerd
from stackgate.machine.apt import ensure_host_packages
from stackgate.verdict import history


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


def _history_folder(args: argparse.Namespace) -> Path:
    return Path(args.history or reports_dir() / "history")


def _record(ref: str, folder: Path) -> history.Record:
    """A record by its file path or its id in the history folder."""
    path = Path(ref)
    if not path.is_file():
        path = folder / f"{ref.removesuffix('.json')}.json"
    if not path.is_file():
        raise StackgateError(f"history: no run record {ref!r} (a file, or an id in {folder})")
    return history.read(path)


def cmd_history(args: argparse.Namespace) -> None:
    folder = _history_folder(args)
    runs = history.load_all(folder)
    if not runs:
        print(f"history: no kept runs in {folder}")
        return
    print(f"{'id':<40} {'when (UTC)':<20} {'gate':<8} {'verdict':<11} {'stack commit':<20} profile")
    for r in runs:
        when = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(r.when))
        print(f"{r.id:<40} {when:<20} {r.gate:<8} {r.verdict:<11} {r.stack_commit:<20} {r.profile}")


def cmd_compare(args: argparse.Namespace) -> None:
    folder = _history_folder(args)
    a, b = _record(args.a, folder), _record(args.b, folder)
    if a.kind != b.kind:
        raise StackgateError(f"compare: {a.id} and {b.id} are runs of another gate, manifest or profile; a "
                             "comparison of them would mean nothing")
    from stackgate import manifest as manifest_mod

    bounds = manifest_mod.load(b.manifest).history if Path(b.manifest).is_file() else manifest_mod.History()
    c = history.compare(b, [a], bounds)
    print(f"compare: {b.id} against {a.id}")
    for line in history.summary_lines(c):
        print("  " + line)
    for d in (*c.startup, *c.steps, *c.isolation):
        if d.base != d.now:
            print(f"  {d.what}: {d.change}")


def _profiles(specs: list[str]) -> dict[str, dict[str, list[Path]]]:
    """--profile NAME[:LAYOUT]=FILE values -> profile -> layout -> files."""
    out: dict[str, dict[str, list[Path]]] = {}
    for spec in specs:
        name, sep, file = spec.partition("=")
        if not sep or not file:
            raise StackgateError(f"init: --profile {spec!r}: expected NAME[:LAYOUT]=FILE")
        profile, _, layout = name.partition(":")
        out.setdefault(profile, {}).setdefault(layout or "separated", []).append(Path(file))
    return out


def cmd_init(args: argparse.Namespace) -> None:
    from stackgate.evidence.composefile import load_config
    from stackgate.init import drift, infer, render, running

    files = [Path(f) for f in args.file]
    missing = [str(f) for f in [*files, *([Path(args.simple)] if args.simple else [])] if not f.is_file()]
    if missing:
        raise StackgateError(f"init: no such compose file: {', '.join(missing)}")
    inf = infer.infer(load_config(files, files[0].parent.resolve()))
    simple_inf = infer.infer(load_config([Path(args.simple)], Path(args.simple).parent.resolve())) if args.simple else None
    if args.running:
        running.enrich(inf, args.running)
    if args.check:
        from stackgate.manifest import load

        found = drift.differences(drift.manifest_facts(load(args.check)), render.facts(inf))
        for d in found:
            print(f"drift: {d}")
        if found:
            raise StackgateError(f"init --check: {len(found)} difference(s) between {args.check} and the compose files")
        print(f"init --check: {args.check} matches the compose files")
        return
    out = Path(args.output)
    text = render.render(inf, files, out.parent, [Path(args.simple)] if args.simple else None, simple_inf,
                         _profiles(args.profile or []), args.running)
    from stackgate.manifest import load

    tmp = out.with_name(f".{out.name}.init-tmp.yaml")
    tmp.write_text(text)
    try:
        load(tmp)  # the generated manifest must validate, or nothing is written
    except StackgateError as exc:
        tmp.unlink()
        raise StackgateError(f"init: the generated manifest does not validate ({exc}); nothing written") from None
    tmp.replace(out)
    print(f"init: wrote {out} ({len(inf.services)} services, {len(inf.servers())} model server(s))")
    if inf.questions:
        print(f"init: {len(inf.questions)} question(s) need a human look (they are comments at the top of {out}):")
        for q in inf.questions:
            print(f"  - {q}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="stackgate", description=__doc__)
    sub = parser.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("setup", help="engine, compose plugin, host tools and airgap images")
    p.add_argument("--no-images", action="store_true", help="skip building the airgap images")
    p.set_defaults(fn=cmd_setup)
    sub.add_parser("images", help="build the airgap images (skips current ones)").set_defaults(fn=cmd_images)
    sub.add_parser("clean", help="remove every stackgate container, network and volume").set_defaults(fn=cmd_clean)
    sub.add_parser("sweep", help="remove leftovers of runs that are no longer alive").set_defaults(fn=cmd_sweep)
    p = sub.add_parser("init", help="write a first manifest from your compose files (and your running stack)")
    p.add_argument("-f", "--file", action="append", required=True, help="a compose file (repeat for overrides)")
    p.add_argument("--simple", help="the rollback layout's compose file")
    p.add_argument("--running", metavar="PROJECT", help="a running compose project to read models and health from")
    p.add_argument("--profile", action="append", metavar="NAME[:LAYOUT]=FILE", help="an override file of a profile")
    p.add_argument("-o", "--output", default="manifest.yaml", help="where to write it (default manifest.yaml)")
    p.add_argument("--check", metavar="MANIFEST", help="compare MANIFEST with what init would write; exit 1 on drift")
    p.set_defaults(fn=cmd_init)
    p = sub.add_parser("history", help="list the kept gate runs (date, gate, verdict, stack commit)")
    p.add_argument("--history", default=None, metavar="DIR", help="the history folder (default: reports/history)")
    p.set_defaults(fn=cmd_history)
    p = sub.add_parser("compare", help="compare two kept runs (B against A)")
    p.add_argument("a", help="the earlier run: a record file or its id")
    p.add_argument("b", help="the later run: a record file or its id")
    p.add_argument("--history", default=None, metavar="DIR", help="the history folder (default: reports/history)")
    p.set_defaults(fn=cmd_compare)
    args = parser.parse_args(argv)
    try:
        args.fn(args)
    except StackgateError as exc:
        print(f"stackgate: {exc}", file=sys.stderr)
        return 1
    return 0
