"""`make bench`: the suite's own overhead on top of `docker compose up --wait` + `down -v`.

Runs, side by side on this machine: the bare compose cycle of the same stack, the full
`pytest -m smoke`, and smoke in --stack-reuse mode against a stack started beforehand.
Prints the figures and writes reports/bench.json. Not a test: timings are evidence, not verdicts.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

from stackgate import manifest as manifest_mod
from stackgate.core.paths import ROOT, reports_dir
from stackgate.engines import identity
from stackgate.engines.compose import StackCompose
from stackgate.machine.dockerd import docker_info, gpu_available

TARGET_RATIO, TARGET_REUSE_S = 1.3, 15.0


def compose_for(m: manifest_mod.Manifest, profiles: list[str]) -> StackCompose:
    return StackCompose.for_layout(m, "separated", profiles, identity.new_project_name())


def bare_cycle(m: manifest_mod.Manifest, profiles: list[str]) -> float:
    """Seconds for `up --wait` + `down -v` with nothing else."""
    compose = compose_for(m, profiles)
    t0 = time.monotonic()
    compose.start()
    compose.stop(down=True)
    return time.monotonic() - t0


def smoke(extra: list[str]) -> float:
    """Seconds for a `pytest -m smoke` subprocess; raises when it fails."""
    with tempfile.TemporaryDirectory(prefix="stackgate-bench-") as tmp:
        t0 = time.monotonic()
        res = subprocess.run([sys.executable, "-m", "pytest", "-m", "smoke", "-q", "-p", "no:cacheprovider", *extra],
                             cwd=ROOT, capture_output=True, text=True, env={**os.environ, "STACKGATE_REPORTS": tmp})
        seconds = time.monotonic() - t0
    if res.returncode != 0:
        failed = [ln for ln in res.stdout.splitlines() if ln.startswith(("FAILED", "ERROR", "E "))]
        raise SystemExit(f"bench: smoke {' '.join(extra)} failed ({res.returncode}); the benchmark needs a green "
                         "suite:\n" + "\n".join(failed[:20] or res.stdout.splitlines()[-20:]))
    return seconds


def reuse_smoke(m: manifest_mod.Manifest, profiles: list[str]) -> float:
    compose = compose_for(m, profiles)
    compose.start()
    try:
        return smoke(["--stack-reuse", "--stack-owned", "--stack-project", compose.project_name])
    finally:
        compose.stop(down=True)


def main(rounds: int = 3) -> int:
    m = manifest_mod.load()
    profiles = ["airgap", *(["gpu"] if gpu_available(docker_info()) else [])]
    runs: dict[str, list[float]] = {"bare_compose_cycle_s": [], "full_smoke_s": [], "reuse_smoke_s": []}
    for i in range(rounds):  # interleaved, so drift on the machine hits all three alike
        runs["bare_compose_cycle_s"].append(bare_cycle(m, profiles))
        runs["full_smoke_s"].append(smoke([]))
        runs["reuse_smoke_s"].append(reuse_smoke(m, profiles))
        print(f"bench: round {i + 1}/{rounds}: " + ", ".join(f"{k}={v[-1]:.1f}" for k, v in runs.items()))
    med = {k: round(statistics.median(v), 1) for k, v in runs.items()}
    ratio = round(med["full_smoke_s"] / med["bare_compose_cycle_s"], 2)
    result = {"machine": f"{os.cpu_count()} cores", "profiles": profiles, "rounds": rounds,
              "runs": {k: [round(x, 1) for x in v] for k, v in runs.items()}, "median": med,
              "full_over_bare": ratio, "targets": {"full_over_bare": TARGET_RATIO, "reuse_smoke_s": TARGET_REUSE_S},
              "met": {"full_over_bare": ratio <= TARGET_RATIO, "reuse_smoke_s": med["reuse_smoke_s"] <= TARGET_REUSE_S}}
    reports = reports_dir()
    reports.mkdir(exist_ok=True)
    (reports / "bench.json").write_text(json.dumps(result, indent=2))
    print(f"bench: bare compose cycle {med['bare_compose_cycle_s']}s, full smoke {med['full_smoke_s']}s "
          f"({ratio}x, target <= {TARGET_RATIO}x), reuse smoke {med['reuse_smoke_s']}s (target <= {TARGET_REUSE_S}s)")
    print(f"bench: wrote {reports / 'bench.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
