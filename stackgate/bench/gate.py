"""`make bench`: the suite's own overhead on top of `docker compose up --wait` + `down -v`.

Runs, side by side on this machine: the bare compose cycle of the same stack, the full
`pytest -m smoke`, and smoke in --stack-reuse mode against a stack started beforehand.
Prints the figures and writes reports/bench.json and reports/bench.html: the medians, and for the last round of each
smoke mode where its time went (the spans the gate records: the stack's start, each round-trip chain, the browser,
the routing read, the healthcheck proof, the log watch, and every test that waited >= 1 s for its evidence), drawn as
a chart. Then the 33-service variant (stackgate.bench.variant: 20 more notes services), bare cycle and full smoke,
in VARIANT_ROUNDS rounds: the ratio of a bigger stack. Not a test: timings are evidence, not verdicts.
`python -m stackgate.bench [ROUNDS]` (default 3).
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from stackgate import manifest as manifest_mod
from stackgate.core.paths import ROOT, reports_dir
from stackgate.engines import identity
from stackgate.engines.compose import StackCompose
from stackgate.machine.dockerd import docker_info, gpu_available
from stackgate.verdict import html
from stackgate.verdict.charts import spans_svg

from .variant import write_variant

TARGET_RATIO, TARGET_REUSE_S = 2.5, 20.0  # #22's targets on this 2-core machine
VARIANT_EXTRA, VARIANT_ROUNDS = 20, 1  # 13 + 20 services; one round (a round of it takes minutes on 2 cores)


def compose_for(m: manifest_mod.Manifest, profiles: list[str]) -> StackCompose:
    return StackCompose.for_layout(m, "separated", profiles, identity.new_project_name())


def bare_cycle(m: manifest_mod.Manifest, profiles: list[str]) -> float:
    """Seconds for `up --wait` + `down -v` with nothing else."""
    compose = compose_for(m, profiles)
    t0 = time.monotonic()
    compose.start()
    compose.stop(down=True)
    return time.monotonic() - t0


SPANS: dict[str, list[dict]] = {}  # mode -> the spans of its last run (from that run's metrics.json)


def smoke(extra: list[str], mode: str = "full") -> float:
    """Seconds for a `pytest -m smoke` subprocess (its spans kept under mode); raises when it fails."""
    with tempfile.TemporaryDirectory(prefix="stackgate-bench-") as tmp:
        t0 = time.monotonic()
        res = subprocess.run([sys.executable, "-m", "pytest", "-m", "smoke", "-q", "-p", "no:cacheprovider", *extra],
                             cwd=ROOT, capture_output=True, text=True, env={**os.environ, "STACKGATE_REPORTS": tmp})
        seconds = time.monotonic() - t0
        try:
            SPANS[mode] = json.loads((Path(tmp) / "metrics.json").read_text()).get("spans", [])
        except (OSError, ValueError):
            SPANS[mode] = []
    if res.returncode != 0:
        failed = [ln for ln in res.stdout.splitlines() if ln.startswith(("FAILED", "ERROR", "E "))]
        raise SystemExit(f"bench: smoke {' '.join(extra)} failed ({res.returncode}); the benchmark needs a green "
                         "suite:\n" + "\n".join(failed[:20] or res.stdout.splitlines()[-20:]))
    return seconds


def variant(profiles: list[str], rounds: int = VARIANT_ROUNDS) -> dict:
    """The 33-service variant: its bare cycles, full smokes, medians and ratio (its spans kept under 'variant')."""
    with tempfile.TemporaryDirectory(prefix="stackgate-variant-") as tmp:
        path = write_variant(Path(tmp) / "stack", VARIANT_EXTRA)
        m = manifest_mod.load(path)
        bare, full = [], []
        for _ in range(rounds):
            bare.append(bare_cycle(m, profiles))
            full.append(smoke([f"--manifest={path}"], "variant"))
    med_bare, med_full = statistics.median(bare), statistics.median(full)
    return {"services": len(m.services), "rounds": rounds, "bare_compose_cycle_s": [round(x, 1) for x in bare],
            "full_smoke_s": [round(x, 1) for x in full], "full_over_bare": round(med_full / med_bare, 2)}


def reuse_smoke(m: manifest_mod.Manifest, profiles: list[str]) -> float:
    compose = compose_for(m, profiles)
    compose.start()
    try:
        return smoke(["--stack-reuse", "--stack-owned", "--stack-project", compose.project_name], "reuse")
    finally:
        compose.stop(down=True)


def page(result: dict) -> str:
    """reports/bench.html: the medians against the targets, and each mode's critical path as a chart."""
    med, targets = result["median"], result["targets"]
    rows = [["bare `up --wait` + `down -v`", f"{med['bare_compose_cycle_s']:.1f}", "", ""],
            ["full smoke", f"{med['full_smoke_s']:.1f}", f"{result['full_over_bare']:.2f} x the bare cycle",
             f"<= {targets['full_over_bare']} x: {'met' if result['met']['full_over_bare'] else 'NOT met'}"],
            ["reuse-mode smoke", f"{med['reuse_smoke_s']:.1f}", "",
             f"<= {targets['reuse_smoke_s']} s: {'met' if result['met']['reuse_smoke_s'] else 'NOT met'}"]]
    v = result.get("variant") or {}
    if v.get("error"):
        rows.append([f"{13 + VARIANT_EXTRA}-service variant", "failed", v["error"][:300], ""])
    elif v:
        rows.append([f"{v['services']}-service variant: bare cycle / full smoke",
                     f"{statistics.median(v['bare_compose_cycle_s']):.1f} / {statistics.median(v['full_smoke_s']):.1f}",
                     f"{v['full_over_bare']:.2f} x its bare cycle", ""])
    charts = "".join(spans_svg(f"{mode} smoke, last round: where the time went", spans)
                     for mode, spans in result.get("critical_path", {}).items())
    return html.page("stackgate benchmark", "<h1>The gate's cost on top of the bare compose cycle</h1>"
                     + html.bullets({"machine": result["machine"], "profiles": ", ".join(result["profiles"]),
                                     "rounds": result["rounds"], "when": result["when"]})
                     + html.table(["Mode", "Median s", "Ratio", "Target"], rows) + charts)


def main(rounds: int = 3) -> int:
    m = manifest_mod.load()
    profiles = ["airgap", *(["gpu"] if gpu_available(docker_info()) else [])]
    runs: dict[str, list[float]] = {"bare_compose_cycle_s": [], "full_smoke_s": [], "reuse_smoke_s": []}
    for i in range(rounds):  # interleaved, so drift on the machine hits all three alike
        runs["bare_compose_cycle_s"].append(bare_cycle(m, profiles))
        runs["full_smoke_s"].append(smoke([], "full"))
        runs["reuse_smoke_s"].append(reuse_smoke(m, profiles))
        print(f"bench: round {i + 1}/{rounds}: " + ", ".join(f"{k}={v[-1]:.1f}" for k, v in runs.items()))
    try:
        big = variant(profiles)
        print(f"bench: {big['services']}-service variant: bare {big['bare_compose_cycle_s']}, full "
              f"{big['full_smoke_s']} ({big['full_over_bare']}x)")
    except SystemExit as exc:  # the 13-service figures are still written; the variant's failure says why not it
        big = {"error": str(exc)}
        print(f"bench: the {13 + VARIANT_EXTRA}-service variant: {exc}")
    med = {k: round(statistics.median(v), 1) for k, v in runs.items()}
    ratio = round(med["full_smoke_s"] / med["bare_compose_cycle_s"], 2)
    result = {"machine": f"{os.cpu_count()} cores", "profiles": profiles, "rounds": rounds,
              "runs": {k: [round(x, 1) for x in v] for k, v in runs.items()}, "median": med,
              "full_over_bare": ratio, "targets": {"full_over_bare": TARGET_RATIO, "reuse_smoke_s": TARGET_REUSE_S},
              "met": {"full_over_bare": ratio <= TARGET_RATIO, "reuse_smoke_s": med["reuse_smoke_s"] <= TARGET_REUSE_S},
              "when": time.strftime("%Y-%m-%d %H:%M:%S %Z"), "variant": big, "critical_path": dict(SPANS)}
    reports = reports_dir()
    reports.mkdir(exist_ok=True)
    (reports / "bench.json").write_text(json.dumps(result, indent=2))
    (reports / "bench.html").write_text(page(result))
    print(f"bench: bare compose cycle {med['bare_compose_cycle_s']}s, full smoke {med['full_smoke_s']}s "
          f"({ratio}x, target <= {TARGET_RATIO}x), reuse smoke {med['reuse_smoke_s']}s (target <= {TARGET_REUSE_S}s)")
    for mode, spans in SPANS.items():
        longest = sorted((s for s in spans if not s["name"].startswith("session")), key=lambda s: s["start_s"] - s["end_s"])
        print(f"bench: {mode} smoke, longest spans: " + "; ".join(f"{s['name']} {s['end_s'] - s['start_s']:.1f}s"
                                                              for s in longest[:6]))
    print(f"bench: wrote {reports / 'bench.json'} and {reports / 'bench.html'}")
    return 0


if __name__ == "__main__":
    sys.exit(main(int(sys.argv[1]) if len(sys.argv) > 1 else 3))
