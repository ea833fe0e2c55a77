"""Benchmark `leadscore serve` over HTTP on 127.0.0.1: single-lead latency, batch throughput,
and a bounded load test, against the targets (p99 <= 50 ms, batch >= 2,000 leads/s).

    .venv/bin/python bench/bench_serve.py --root /tmp/leadscore-bench/serve

--root is a built workspace (published/serving.duckdb and artifacts/, as `make demo` or the
test fixture leaves them). The script starts `leadscore serve` on a free port, waits until it
is ready, then measures: a known lead with about 50 stored events, a new lead with 3 events in
the request, the batch endpoint, and N clients posting single leads for a fixed time (errors
must be 0; the server's peak RSS is read from /proc). Results: bench/results/serve.json.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import duckdb
import httpx

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
RESULTS = ROOT / "bench" / "results"
P99_TARGET_MS = 50.0
BATCH_TARGET = 2000.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def percentiles(seconds: list[float]) -> dict[str, float]:
    ms = sorted(s * 1000 for s in seconds)
    q = statistics.quantiles(ms, n=100, method="inclusive")
    return {"n": len(ms), "p50_ms": q[49], "p95_ms": q[94], "p99_ms": q[98], "max_ms": ms[-1]}


def peak_rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def timed_posts(http: httpx.Client, path: str, bodies: list[dict]) -> list[float]:
    times = []
    for body in bodies:
        start = time.perf_counter()
        response = http.post(path, json=body)
        times.append(time.perf_counter() - start)
        response.raise_for_status()
    return times


def load_test(base: str, bodies: list[dict], clients: int, seconds: float) -> dict[str, Any]:
    latencies: list[float] = []
    errors: list[str] = []
    deadline = time.monotonic() + seconds

    def client(seed: int) -> None:
        pick = random.Random(seed)
        with httpx.Client(base_url=base, timeout=120) as http:
            while time.monotonic() < deadline:
                start = time.perf_counter()
                try:
                    response = http.post("/v1/score", json=pick.choice(bodies))
                    if response.status_code != 200:
                        errors.append(f"{response.status_code}: {response.text[:200]}")
                except httpx.HTTPError as exc:
                    errors.append(repr(exc))
                latencies.append(time.perf_counter() - start)

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    return {
        "clients": clients,
        "seconds": round(elapsed, 1),
        "requests": len(latencies),
        "requests_per_s": len(latencies) / elapsed,
        "errors": len(errors),
        "first_errors": errors[:3],
        **percentiles(latencies),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", type=Path, required=True, help="a built workspace")
    parser.add_argument("--requests", type=int, default=200, help="timed single requests")
    parser.add_argument("--batch-size", type=int, default=500)
    parser.add_argument("--batches", type=int, default=3)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--duration", type=float, default=30.0, help="load test seconds")
    parser.add_argument("--connections", type=int, default=2, help="server's query slots")
    args = parser.parse_args()

    snapshot = args.root / "published" / "serving.duckdb"
    con = duckdb.connect(str(snapshot), read_only=True)
    as_of = str(con.execute("select as_of from serving_snapshot").fetchall()[0][0])
    known = con.execute(
        "select lead_id, count(*) as n from stg_raw__events group by lead_id "
        "order by abs(count(*) - 50), lead_id limit 1"
    ).fetchall()[0]
    leads = [r[0] for r in con.execute("select lead_id from stg_raw__leads order by lead_id")
             .fetchall()]
    con.close()

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = dict(os.environ)
    env.update({"LEADSCORE_ARTIFACTS": str(args.root / "artifacts"),
                "LEADSCORE_PUBLISH_DIR": str(args.root / "published")})
    server = subprocess.Popen(
        [str(BIN / "leadscore"), "serve", "--port", str(port), "--connections",
         str(args.connections), "--max-batch", str(args.batch_size)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        started = time.perf_counter()
        with httpx.Client(base_url=base, timeout=300) as http:
            while True:
                try:
                    if http.get("/readyz").status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if server.poll() is not None:
                    raise SystemExit("leadscore serve exited before it was ready")
                time.sleep(0.5)
            ready_s = time.perf_counter() - started
            version = http.get("/v1/model").json()["version"]
            known_body = {"lead_id": known[0], "as_of": as_of}
            new_body = {
                "lead_id": "BENCH-NEW", "as_of": as_of,
                "attributes": {"created_at": "2026-05-20 08:00:00", "job_title": "VP"},
                "events": [
                    {"occurred_at": f"2026-05-{d} 10:00:00", "channel": "web",
                     "event_type": "page_view", "page_category": p}
                    for d, p in (("21", "blog"), ("25", "pricing"), ("29", "demo"))
                ],
            }
            timed_posts(http, "/v1/score", [known_body, new_body] * 3)  # warm up
            known_lat = percentiles(timed_posts(http, "/v1/score", [known_body] * args.requests))
            new_lat = percentiles(timed_posts(http, "/v1/score", [new_body] * args.requests))
            batch_times = []
            for b in range(args.batches):
                chunk = leads[(b * args.batch_size) % len(leads):][: args.batch_size]
                body = {"leads": [{"lead_id": lead, "as_of": as_of} for lead in chunk]}
                batch_times.append(timed_posts(http, "/v1/score/batch", [body])[0])
            batch_rate = args.batch_size / statistics.median(batch_times)
        bodies = [{"lead_id": lead, "as_of": as_of} for lead in leads[:200]] + [new_body]
        load = load_test(base, bodies, args.clients, args.duration)
        rss = peak_rss_mib(server.pid)
    finally:
        server.terminate()
        server.wait(timeout=60)

    result = {
        "model_version": version,
        "leads_in_snapshot": len(leads),
        "ready_after_s": ready_s,
        "known_lead": {"lead_id": known[0], "stored_events": known[1], **known_lat},
        "new_lead": {"events_in_request": 3, **new_lat},
        "batch": {"size": args.batch_size, "median_s": statistics.median(batch_times),
                  "leads_per_s": batch_rate},
        "load": load,
        "server_peak_rss_mib": rss,
        "cores": os.cpu_count(),
        "load_average_1m": os.getloadavg()[0],
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "serve.json").write_text(json.dumps(result, indent=2, default=str) + "\n")
    print(f"ready after {ready_s:.1f} s (dbt compile of the serving models), model {version}")
    for name, lat in (("known lead", known_lat), ("new lead", new_lat)):
        print(f"{name:<11} p50 {lat['p50_ms']:8.1f} ms  p95 {lat['p95_ms']:8.1f} ms  "
              f"p99 {lat['p99_ms']:8.1f} ms  (target p99 {P99_TARGET_MS:.0f} ms: "
              f"{lat['p99_ms'] / P99_TARGET_MS:.1f}x)")
    print(f"batch       {batch_rate:8.0f} leads/s ({args.batch_size} a request; target "
          f"{BATCH_TARGET:.0f}: {batch_rate / BATCH_TARGET:.2f}x)")
    print(f"load        {load['clients']} clients x {load['seconds']} s: {load['requests']} "
          f"requests, {load['requests_per_s']:.1f}/s, errors {load['errors']}, p99 "
          f"{load['p99_ms']:.0f} ms; server peak RSS {rss:.0f} MiB")
    print(f"load average {result['load_average_1m']:.1f} on {result['cores']} cores")
    return 0 if load["errors"] == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
