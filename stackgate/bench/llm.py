"""`make bench-llm`: the LLM Ollama against an OpenAI-compatible server (llama.cpp's, the stand-in for vLLM), one
run, side by side, with the same weights, CPUs and request mix.

Each backend runs alone in a container of its own on the same CPU (`--cpuset-cpus`), is sent the same streamed
chat completions through its OpenAI API at concurrency 1, 2, 4 and 8 and in one Poisson-arrival run, and is
measured as vLLM's `bench serve` measures: TTFT, TPOT, ITL and end-to-end latency (mean, median, p95, p99),
request and output-token throughput, plus the container's peak memory (docker stats). Writes
reports/bench-llm.json and a self-contained reports/bench-llm.html.

The generator is ours (httpx, ~100 lines): vLLM's benchmark needs vLLM installed (CUDA wheels, not here), and
the maintained load tools (locust, k6) measure requests, not token streams (TTFT, ITL).
"""

from __future__ import annotations

import asyncio
import html
import json
import os
import random
import statistics
import threading
import time
from dataclasses import dataclass, field

import httpx

from stackgate.core import http
from stackgate.core.paths import reports_dir
from stackgate.core.wait import wait_until
from stackgate.evidence.isolation import percentile
from stackgate.verdict.html import bullets, table
from stackgate.verdict.html import page as html_page
from stackgate.verdict.report import grouped_bars_svg

LABEL = {"org.stackgate.project": "stackgate", "org.stackgate.bench": "llm"}
WEIGHTS = "/opt/weights/SmolLM2-135M-Instruct.Q4_1.gguf"
MODEL = "llama3.2:latest"
CPUSET = os.environ.get("BENCH_LLM_CPUSET", "1")
CONCURRENCIES = (1, 2, 4, 8)
MAX_TOKENS = 48
PROMPTS = [
    "Answer the question using only the context.\nContext: The delivery code of ACME is 4711.\n"
    "Question: What is the delivery code of ACME?",
    "Summarize the document in one or two sentences.\nText: INVOICE 5120 GLOBEX, due on Friday.",
    "Convert these raw notes into structured notes, one bullet per point.\nNotes: Met Initech on Monday. "
    "Send invoice 6031 by Friday.",
    "Write one sentence about why invoices have numbers.",
]
BACKENDS = {
    "LLM Ollama (stand-in, llama.cpp)": {
        "image": "stackgate/ollama:airgap", "port": 11434,
        "environment": {"MODELS": MODEL, "OLLAMA_NUM_PARALLEL": "1"}, "command": None, "entrypoint": None},
    "OpenAI server (llama.cpp's, stand-in for vLLM)": {
        "image": "stackgate/vllm-standin:airgap", "port": 8000, "environment": {}, "entrypoint": None,
        "command": ["--model", WEIGHTS, "--served-model-name", MODEL, "--port", "8000", "--max-model-len", "2048"]},
}


@dataclass
class Sample:
    """One request: when its tokens arrived (seconds from its start) and whether it completed."""

    token_times: list[float] = field(default_factory=list)
    e2e: float = 0.0
    ok: bool = False


async def one_request(client: httpx.AsyncClient, base: str, prompt: str) -> Sample:
    sample, t0 = Sample(), time.perf_counter()
    body = {"model": MODEL, "messages": [{"role": "user", "content": prompt}], "max_tokens": MAX_TOKENS,
            "temperature": 0, "stream": True}
    try:
        async with client.stream("POST", base + "/v1/chat/completions", json=body) as resp:
            if resp.status_code != 200:
                return sample
            async for line in resp.aiter_lines():
                if not line.startswith("data: ") or line == "data: [DONE]":
                    continue
                delta = (json.loads(line[6:]).get("choices") or [{}])[0].get("delta") or {}
                if delta.get("content"):
                    sample.token_times.append(time.perf_counter() - t0)
        sample.ok = bool(sample.token_times)
    except httpx.HTTPError:
        return sample
    sample.e2e = time.perf_counter() - t0
    return sample


async def run_load(base: str, n: int, concurrency: int | None, rate: float | None, seed: int = 0) -> dict:
    """n requests at a fixed concurrency, or arriving as a Poisson process of `rate` per second; the metrics."""
    rng = random.Random(seed)
    sem = asyncio.Semaphore(concurrency or n)
    async with http.async_client(300) as client:
        async def fire(i: int, delay: float) -> Sample:
            await asyncio.sleep(delay)
            async with sem:
                return await one_request(client, base, PROMPTS[i % len(PROMPTS)])
        delays, at = [], 0.0
        for _ in range(n):
            delays.append(at)
            at += rng.expovariate(rate) if rate else 0.0
        t0 = time.perf_counter()
        samples = await asyncio.gather(*(fire(i, d) for i, d in enumerate(delays)))
        duration = time.perf_counter() - t0
    return metrics(samples, duration)


def metrics(samples: list[Sample], duration: float) -> dict:
    """vLLM bench serve's names: ttft, tpot, itl, e2el (ms: mean, median, p95, p99) and throughputs."""
    done = [s for s in samples if s.ok]
    ttft = [s.token_times[0] * 1e3 for s in done]
    tpot = [(s.e2e - s.token_times[0]) / (len(s.token_times) - 1) * 1e3 for s in done if len(s.token_times) > 1]
    itl = [(b - a) * 1e3 for s in done for a, b in zip(s.token_times, s.token_times[1:])]
    e2el = [s.e2e * 1e3 for s in done]
    out_tokens = sum(len(s.token_times) for s in done)
    out = {"completed": len(done), "failed": len(samples) - len(done), "duration_s": round(duration, 2),
           "request_throughput": round(len(done) / duration, 3), "output_throughput": round(out_tokens / duration, 2),
           "total_output_tokens": out_tokens}
    for name, xs in (("ttft", ttft), ("tpot", tpot), ("itl", itl), ("e2el", e2el)):
        out[f"mean_{name}_ms"] = round(statistics.fmean(xs), 1) if xs else None
        for q, label in ((50, "median"), (95, "p95"), (99, "p99")):
            out[f"{label}_{name}_ms"] = round(percentile(xs, q), 1) if xs else None
    return out


class PeakMemory:
    """Polls `docker stats` of one container in a thread; the peak memory use it saw (bytes)."""

    def __init__(self, container) -> None:  # noqa: ANN001 - a docker SDK container
        self.container, self.peak, self.stop = container, 0, threading.Event()
        self.thread = threading.Thread(target=self.poll, daemon=True)

    def poll(self) -> None:
        while not self.stop.is_set():
            try:
                usage = self.container.stats(stream=False).get("memory_stats", {}).get("usage", 0)
                self.peak = max(self.peak, int(usage or 0))
            except Exception:  # noqa: BLE001 - the container may be going away
                return
            self.stop.wait(0.5)

    def __enter__(self) -> PeakMemory:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join(timeout=10)


def wait_ready(base: str, bound_s: float = 180) -> None:
    def lists_model() -> bool:
        try:
            return any(m.get("id") == MODEL for m in httpx.get(base + "/v1/models", timeout=3).json().get("data", []))
        except (httpx.HTTPError, ValueError):
            return False

    if wait_until(lists_model, bound_s) is None:
        raise SystemExit(f"bench-llm: {base} did not list {MODEL} within {bound_s:.0f} s")


def bench_backend(name: str, spec: dict, host_port: int) -> dict:
    import docker

    client = docker.from_env()
    container = client.containers.run(spec["image"], spec["command"], entrypoint=spec["entrypoint"], detach=True,
                                      environment=spec["environment"], labels=LABEL, cpuset_cpus=CPUSET,
                                      ports={f"{spec['port']}/tcp": ("127.0.0.1", host_port)}, network_mode="bridge")
    base = f"http://127.0.0.1:{host_port}"
    try:
        t0 = time.monotonic()
        wait_ready(base)
        ready_s = time.monotonic() - t0
        asyncio.run(run_load(base, 2, 1, None))  # warm-up: the model is loaded before anything is timed
        runs = {}
        with PeakMemory(container) as mem:
            for c in CONCURRENCIES:
                runs[f"concurrency {c}"] = asyncio.run(run_load(base, max(8, 2 * c), c, None))
            runs["poisson 1.0/s"] = asyncio.run(run_load(base, 24, None, 1.0, seed=7))
        return {"backend": name, "image": spec["image"], "ready_s": round(ready_s, 1), "cpuset": CPUSET,
                "peak_memory_mib": round(mem.peak / 2**20, 1), "runs": runs}
    finally:
        container.remove(force=True)


def page(results: list[dict], context: dict) -> str:
    cats = list(results[0]["runs"])
    charts = []
    for key, title, unit in (("median_ttft_ms", "Median TTFT (ms)", "ms"), ("median_tpot_ms", "Median TPOT (ms)", "ms"),
                             ("p95_e2el_ms", "p95 end-to-end latency (ms)", "ms"),
                             ("output_throughput", "Output tokens/s", "tok/s"),
                             ("request_throughput", "Requests/s", "req/s")):
        charts.append(grouped_bars_svg(title, cats, {r["backend"]: [r["runs"][c][key] for c in cats] for r in results},
                                       unit))
    keys = ["completed", "failed", "request_throughput", "output_throughput", "mean_ttft_ms", "median_ttft_ms",
            "p99_ttft_ms", "mean_tpot_ms", "median_tpot_ms", "p99_tpot_ms", "median_itl_ms", "p99_itl_ms",
            "median_e2el_ms", "p95_e2el_ms", "p99_e2el_ms"]
    rows = [[r["backend"], c, *(r["runs"][c][k] for k in keys)] for r in results for c in cats]
    mem = "".join(f"<li>{html.escape(r['backend'])}: peak memory {r['peak_memory_mib']} MiB, ready in {r['ready_s']} s"
                  f"</li>" for r in results)
    return html_page("stackgate LLM benchmark", "<h1>LLM Ollama vs OpenAI-compatible server (stand-in for vLLM)</h1>"
                + bullets(context) + f"<ul>{mem}</ul>{''.join(charts)}"
                + table(["backend", "run", *keys], rows, style="border-collapse:collapse;font-size:12px", cellpadding=3))


def main() -> int:
    results = [bench_backend(name, spec, 28400 + i) for i, (name, spec) in enumerate(BACKENDS.items())]
    context = {"weights": "SmolLM2-135M-Instruct Q4_1 (stand-in weights) in both, through llama.cpp",
               "cpus": f"each backend alone on CPU {CPUSET}", "requests": f"streamed chat completions, max_tokens "
               f"{MAX_TOKENS}, temperature 0, {len(PROMPTS)} prompts in turn; concurrency runs send max(8, 2c)",
               "poisson": "24 requests arriving as a Poisson process of 1.0/s (seeded)",
               "when": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
               "note": "both are stand-ins: vLLM itself needs a GPU and a registry, neither is here"}
    reports = reports_dir()
    reports.mkdir(exist_ok=True)
    (reports / "bench-llm.json").write_text(json.dumps({"context": context, "results": results}, indent=2))
    (reports / "bench-llm.html").write_text(page(results, context))
    for r in results:
        for run, m in r["runs"].items():
            print(f"bench-llm: {r['backend'][:28]:28} {run:15} ttft p50 {m['median_ttft_ms']} ms, tpot p50 "
                  f"{m['median_tpot_ms']} ms, e2el p95 {m['p95_e2el_ms']} ms, {m['output_throughput']} tok/s, "
                  f"{m['request_throughput']} req/s, failed {m['failed']}")
        print(f"bench-llm: {r['backend'][:28]:28} peak memory {r['peak_memory_mib']} MiB")
    print(f"bench-llm: wrote {reports / 'bench-llm.json'} and {reports / 'bench-llm.html'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
