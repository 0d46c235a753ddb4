"""`make bench-adversary`: how often each content check fails when the LLM answers wrong on purpose.

One airgap stack; per mode of the Ollama stand-in's adversary (OLLAMA_STANDIN_ADVERSARY: off, echo, span, example,
other) both Ollamas are recreated with it, then the round-trips and the Ollama conformance tests run N times in reuse
mode. A check that a plausible wrong answer passes proves less than its title: every content check should fail in at
least 9 of 10 runs of each mode that could fool it, and never in mode `off` (real answers). Writes
reports/bench-adversary.json. Not a test: the rates are evidence about the checks. Stand-in weights (SmolLM2).
"""

from __future__ import annotations

import argparse
import collections
import json
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from pathlib import Path

from stackgate import manifest as manifest_mod
from stackgate.core import proc
from stackgate.core.paths import reports_dir
from stackgate.engines.compose import StackRun

ROOT = Path(__file__).resolve().parents[2]
TESTS = ["stackgate_suite/smoke/test_roundtrips.py", "stackgate_suite/contract/test_ollama_api.py"]
MODES = ("off", "echo", "span", "example", "other")
# the checks the adversary is for: the LLM content checks and the Ollama conformance tests that read an answer
JUDGED = ("summary", "answer", "entities", "structured", "json_format", "chat_answers", "generate_streams")


def outcomes(junit: Path) -> dict[str, str]:
    """test id -> 'passed' | the failure's first line, for the tests that ran (skips left out)."""
    out = {}
    for case in ET.parse(junit).iter("testcase"):
        if case.find("skipped") is not None:
            continue
        bad = case.find("failure") if case.find("failure") is not None else case.find("error")
        tid = f"{case.get('classname', '').rsplit('.', 1)[-1]}::{case.get('name')}"
        out[tid] = "passed" if bad is None else (bad.get("message") or "failed").splitlines()[0][:300]
    return out


def set_mode(m: manifest_mod.Manifest, project: str, mode: str, work: Path) -> None:
    """Recreate both Ollamas of the running project with the adversary's mode ('' for off)."""
    override = work / f"adversary-{mode}.yml"
    value = "" if mode == "off" else mode
    override.write_text(json.dumps({"services": {name: {"environment": {"OLLAMA_STANDIN_ADVERSARY": value}}
                                                 for name in m.ollamas}}))
    files = [*m.compose_files("separated", ["airgap"]), override]
    argv = [*proc.compose_argv(str(m.project_dir), [str(f) for f in files], project),
            "up", "-d", "--no-deps", "--wait", *m.ollamas]
    subprocess.run(argv, check=True, capture_output=True, timeout=600)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m stackgate.bench.adversary", description=__doc__.splitlines()[0])
    ap.add_argument("--modes", default=",".join(MODES))
    ap.add_argument("--runs", type=int, default=10)
    args = ap.parse_args(argv)
    m = manifest_mod.load(ROOT / "stack" / "manifest.yaml")
    project = "stackgate-adversary"
    run = StackRun(m, ["airgap"], keep=True, project=project, log=lambda _msg: None)
    out = reports_dir() / "bench-adversary.json"
    # the modes not asked for this time keep their earlier rates (each mode says when it was measured)
    kept = json.loads(out.read_text()) if out.exists() else {}
    results: dict[str, dict] = dict(kept.get("modes") or {})
    measured: dict[str, str] = dict(kept.get("measured") or {})
    if "off" in args.modes.split(","):
        kept.pop("caveat", None)  # it spoke of an earlier measurement of mode off
    t0 = time.monotonic()
    run.start()
    print(f"adversary: stack up in {time.monotonic() - t0:.0f}s", flush=True)
    try:
        with tempfile.TemporaryDirectory(prefix="stackgate-adversary-") as tmp:
            work = Path(tmp)
            for mode in args.modes.split(","):
                set_mode(m, project, mode, work)
                failed: collections.Counter = collections.Counter()
                ran: collections.Counter = collections.Counter()
                first: dict[str, str] = {}
                for i in range(args.runs):
                    junit = work / f"{mode}-{i}.xml"
                    t1 = time.monotonic()
                    subprocess.run([sys.executable, "-m", "pytest", *TESTS, "--stack-reuse", "--stack-project",
                                    project, "--gate", "smoke", "-q", "-p", "no:cacheprovider",
                                    f"--junitxml={junit}", "--history", str(work / "history")],
                                   cwd=ROOT, capture_output=True, timeout=900)
                    for tid, outcome in outcomes(junit).items():
                        ran[tid] += 1
                        if outcome != "passed":
                            failed[tid] += 1
                            first.setdefault(tid, outcome)
                    print(f"adversary: {mode} run {i + 1}/{args.runs} ({time.monotonic() - t1:.0f}s)", flush=True)
                results[mode] = {tid: {"failed": failed[tid], "runs": ran[tid], "first_failure": first.get(tid, "")}
                                 for tid in sorted(ran) if any(k in tid for k in JUDGED)}
                measured[mode] = f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {args.runs} runs"
                out.write_text(json.dumps({**kept, "runs_per_mode": args.runs, "backend": "stand-in Ollamas "
                                           "(llama.cpp, SmolLM2-135M weights; tesseract)", "measured": measured,
                                           "modes": results}, indent=1))
    finally:
        run.keep = False
        run.stop()
    for mode in args.modes.split(","):
        rows = results.get(mode, {})
        print(f"== {mode}")
        for tid, row in rows.items():
            print(f"  {row['failed']:>2}/{row['runs']}  {tid}")
    print(f"adversary: wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
