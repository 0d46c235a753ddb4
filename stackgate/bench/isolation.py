"""`make bench-isolation`: LLM latency idle and under a vision burst, on the separated layout and on the simple one.

The same measurement as the release gate's isolation test (stackgate.evidence.isolation, the manifest's `isolation`), run
once per layout on a fresh stack, side by side. Writes reports/bench-isolation.json and a self-contained
reports/bench-isolation.html with the chart. Not a test: the figures are evidence, the gate judges its own run.
"""

from __future__ import annotations

import json
import os
import platform
import time

from stackgate import manifest as manifest_mod
from stackgate.core.http import client as http_client
from stackgate.core.paths import reports_dir
from stackgate.engines import identity
from stackgate.engines.compose import StackCompose
from stackgate.evidence.isolation import measure
from stackgate.machine.dockerd import docker_info, gpu_available
from stackgate.verdict import html
from stackgate.verdict.report import latency_bars_svg


def run_layout(m: manifest_mod.Manifest, layout: str, profiles: list[str], values: dict[str, str]) -> dict:
    """Start the layout, measure idle and loaded LLM latency, tear it down; the figures."""
    compose = StackCompose.for_layout(m, layout, profiles, identity.new_project_name())
    t0 = time.monotonic()
    compose.start()
    try:
        idle, loaded, load = measure(http_client, m, m.isolation,
                                     values)
    finally:
        compose.stop(down=True)
    iso = m.isolation
    return {"layout": layout, "service": iso.timed[-1].service, "idle": idle.summary(), "loaded": loaded.summary(),
            "bound_s": round(iso.bound_s(idle.p95), 3), "within_bound": loaded.p95 <= iso.bound_s(idle.p95),
            "burst": {"sent": load.sent, "ok": load.ok}, "seconds": round(time.monotonic() - t0, 1)}


def page(runs: list[dict], rule: str, context: dict) -> str:
    """The self-contained HTML page: context, table and chart."""
    rows = [[r["layout"], f"{r['idle']['p50_s']:.2f}", f"{r['idle']['p95_s']:.2f}", f"{r['loaded']['p50_s']:.2f}",
             f"{r['loaded']['p95_s']:.2f}", f"{r['bound_s']:.2f}", "yes" if r["within_bound"] else "NO",
             f"{r['burst']['ok']} of {r['burst']['sent']}"] for r in runs]
    chart = latency_bars_svg([(r["layout"], {"idle p50": r["idle"]["p50_s"], "idle p95": r["idle"]["p95_s"],
                                             "loaded p50": r["loaded"]["p50_s"], "loaded p95": r["loaded"]["p95_s"]})
                              for r in runs], "LLM latency, idle and under the vision burst (s)",
                             {r["layout"]: r["bound_s"] for r in runs})
    head = ["Layout", "Idle p50 s", "Idle p95 s", "Loaded p50 s", "Loaded p95 s", "Bound s", "Within",
            "Burst requests served"]
    return html.page("stackgate isolation benchmark", "<h1>Isolation: LLM latency under a vision burst</h1>"
                     + html.bullets(context)
                     + f"<p>Bound: {rule} (the release gate applies it to the separated layout).</p>"
                     + html.table(head, rows) + chart)


def main() -> int:
    m = manifest_mod.load(os.environ.get("STACKGATE_MANIFEST"))
    if m.isolation is None:
        raise SystemExit("bench-isolation: the manifest declares no `isolation`")
    profiles = ["airgap", *(["gpu"] if gpu_available(docker_info()) else [])]
    values = {"number": "4242", "vendor": "ACMEBENCH"}
    runs = [run_layout(m, layout, profiles, values) for layout in ("separated", "simple") if layout in m.layouts]
    for r in runs:
        print(f"bench-isolation: {r['layout']:9} idle p50 {r['idle']['p50_s']:.2f} s p95 {r['idle']['p95_s']:.2f} s | "
              f"loaded p50 {r['loaded']['p50_s']:.2f} s p95 {r['loaded']['p95_s']:.2f} s | bound {r['bound_s']:.2f} s "
              f"({'within' if r['within_bound'] else 'OUTSIDE'}) | burst {r['burst']['ok']}/{r['burst']['sent']}")
    context = {"host": f"{platform.node()}, {os.cpu_count()} CPUs", "profiles": ", ".join(profiles),
               "timed": f"{m.isolation.timed[-1].service} {m.isolation.timed[-1].path}, {m.isolation.samples} samples",
               "burst": ", ".join(f"{r.service} {r.path}" for r in m.isolation.load) + f" × {m.isolation.workers} workers",
               "backends": "LLM: llama.cpp with SmolLM2-135M-Instruct Q4_1 stand-in weights; vision: tesseract "
                           "(stand-in Ollamas)", "when": time.strftime("%Y-%m-%d %H:%M:%S %Z")}
    reports = reports_dir()
    reports.mkdir(exist_ok=True)
    (reports / "bench-isolation.json").write_text(json.dumps({"context": context, "rule": m.isolation.describe_bound(),
                                                              "runs": runs}, indent=2))
    (reports / "bench-isolation.html").write_text(page(runs, m.isolation.describe_bound(), context))
    print(f"bench-isolation: wrote {reports / 'bench-isolation.json'} and {reports / 'bench-isolation.html'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
