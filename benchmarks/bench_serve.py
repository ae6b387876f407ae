"""`impact serve` under bounded load on loopback: requests per second for single runs, rows per second for
batches, p50/p99 latency, each beside its baseline (the same work done in-process by the Python API).

    python benchmarks/bench_serve.py [--clients 8] [--runs 800] [--batches 20] [--rows 10000]

The server is a separate `impact serve` process on 127.0.0.1 and a free port, started and stopped here;
the clients are threads of this process, one keep-alive connection each. Nothing leaves the machine.
"""

from __future__ import annotations

import argparse
import http.client
import json
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from _common import BIN, REPO, median_time

SCENARIO = {"kind": "scenario", "schema_version": 1, "model": "llama-3.1-70b", "location": "fr",
            "hardware": {"accelerator": "h100-sxm", "gpus": 8},
            "request": {"input_tokens": 1000, "output_tokens": 500}}  # fmt: skip
MODELS, LOCATIONS = ["llama-3.1-8b", "llama-3.1-70b", "mistral-7b"], ["us", "fr", "de", "se"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(port: int) -> subprocess.Popen:
    server = subprocess.Popen([str(BIN / "impact"), "serve", "--port", str(port), "--root", str(REPO)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)  # fmt: skip
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                return server
        except OSError:
            time.sleep(0.1)
    server.kill()
    raise SystemExit(f"impact serve did not start: {server.stderr.read().decode()[-2000:]}")


def load(port: int, bodies: list[tuple[str, bytes]], clients: int) -> tuple[float, list[float]]:
    """(wall seconds, latency of each request in seconds) for POSTing every body from `clients` threads."""

    def worker(items):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        times = []
        for path, body in items:
            begun = time.perf_counter()
            conn.request("POST", path, body=body, headers={"content-type": "application/json"})
            response = conn.getresponse()
            response.read()
            if response.status != 200:
                raise SystemExit(f"{path} answered {response.status}")
            times.append(time.perf_counter() - begun)
        conn.close()
        return times

    started = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        latencies = [t for part in pool.map(worker, [bodies[i::clients] for i in range(clients)]) for t in part]
    return time.perf_counter() - started, latencies


def percentile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1] if len(values) > 1 else values[0]


def requests_of(rows: int) -> list[dict]:
    return [{"model": MODELS[i % 3], "location": LOCATIONS[i % 4], "input_tokens": 10 + (i * 37) % 3990,
             "output_tokens": 10 + (i * 53) % 990} for i in range(rows)]  # fmt: skip


def baselines(rows: list[dict]) -> tuple[float, float]:
    """(single runs per second, batch rows per second) done in-process by the Python API."""
    sys.path.insert(0, str(REPO.parent))
    from impact.engine import open_tree, report, run
    from impact.engine.batch import run_batch, summary

    tree = open_tree(REPO)
    single = median_time(lambda: json.dumps(report.document(run(SCENARIO, tree=tree))), repeat=50)
    with tempfile.TemporaryDirectory() as tmp:
        log = Path(tmp) / "log.csv"  # what the service turns a list of requests into
        columns = list(rows[0])
        log.write_text(",".join(columns) + "\n" + "".join(",".join(str(r[c]) for c in columns) + "\n" for r in rows))
        batch = median_time(lambda: summary(run_batch(log, SCENARIO, tree)), repeat=5)
    return 1 / single, len(rows) / batch


def main() -> None:
    ask = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ask.add_argument("--clients", type=int, default=8)
    ask.add_argument("--runs", type=int, default=800)
    ask.add_argument("--batches", type=int, default=20)
    ask.add_argument("--rows", type=int, default=10_000)
    args = ask.parse_args()
    rows = requests_of(args.rows)
    api_runs, api_rows = baselines(rows)
    port = free_port()
    server = start(port)
    try:
        single = json.dumps(SCENARIO).encode()
        load(port, [("/v1/run", single)] * 50, args.clients)  # warm up
        wall, lat = load(port, [("/v1/run", single)] * args.runs, args.clients)
        batch = json.dumps({"scenario": SCENARIO, "requests": rows}).encode()
        bwall, blat = load(port, [("/v1/batch", batch)] * args.batches, min(args.clients, args.batches))
    finally:
        server.terminate()
        server.wait(10)
    print(f"impact serve on 127.0.0.1, {args.clients} client threads (the machine's {_cpus()} CPUs shared):")
    p50, p99 = percentile(lat, 50) * 1e3, percentile(lat, 99) * 1e3
    print(f"  POST /v1/run   {args.runs} runs: {args.runs / wall:7.0f} requests/s   p50 {p50:6.1f} ms"
          f"   p99 {p99:6.1f} ms   (in-process API: {api_runs:.0f} runs/s)")  # fmt: skip
    print(f"  POST /v1/batch {args.batches} x {args.rows:,} rows: {args.batches * args.rows / bwall:9,.0f} rows/s"
          f"   p50 {percentile(blat, 50) * 1e3:6.1f} ms   p99 {percentile(blat, 99) * 1e3:6.1f} ms"
          f"   (in-process batch API: {api_rows:,.0f} rows/s)")  # fmt: skip


def _cpus() -> int:
    import os

    return os.cpu_count() or 1


if __name__ == "__main__":
    main()
