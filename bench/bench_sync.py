"""`leadscore sync` throughput: records/s against a local CRM stand-in with a simulated latency,
and how the rate limiter bounds it.

The published crm_outbox is synthetic (N prospects with realistic fields; the outbox model is
measured by the dbt benchmarks, not here), so every record is a change. Each run starts from an
empty state file and sends every record to a HubSpot-shaped server on 127.0.0.1 that answers
each batch after `latency` seconds. One request is in flight at a time, so without a rate limit
the bound is batch_size / latency records/s; with one, it is requests x batch_size / period.
A last run with nothing changed measures what deciding "nothing to send" costs.
"""

from __future__ import annotations

import io
import json
import logging
import os
import sys
import time
from pathlib import Path
from typing import Any

import duckdb
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from benchlib import Bench

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "python"))
from leadscore.sync import load_config, run_sync

RECORDS = {"tiny": 600, "S": 20_000, "L": 100_000}
LATENCIES = {"tiny": (0.0, 0.005), "S": (0.0, 0.005, 0.02, 0.05), "L": (0.0, 0.005, 0.02, 0.05)}
BATCH = 100


def write_outbox(folder: Path, n: int) -> Path:
    """published/leadscore.duckdb with crm_outbox and the lead_scores fingerprints it matches."""
    published = folder / "published"
    published.mkdir(parents=True, exist_ok=True)
    path = published / "leadscore.duckdb"
    path.unlink(missing_ok=True)
    con = duckdb.connect(str(path))
    con.execute(
        f"""
        create table crm_outbox as
        select
            printf('L%07d', i) as lead_id,
            cast(i % 100 as integer) as score,
            round((i % 100) / 100 + 0.0042, 4) as probability,
            ['A', 'B', 'C', 'D'][1 + i % 4] as tier,
            timestamp '2026-06-01 00:00:00' as scored_at,
            '20260601T000000Z' as model_version,
            [
                'Viewed pricing 4 times (raises the score)',
                'Requested a demo 2 days ago (raises the score)',
                'Job title: Director (raises the score)',
                'Company size 11-50 (lowers the score)',
                'Last active 31 days ago (lowers the score)'
            ] as top_factors,
            round(0.6 + (i % 40) / 100, 3) as score_confidence,
            true as is_prospect,
            md5(cast(i as varchar)) as payload_hash,
            cast(hash(i) as ubigint) as score_fingerprint,
        from range({n}) as t(i)
        """
    )
    con.execute("create table lead_scores as select lead_id, score_fingerprint from crm_outbox")
    con.close()
    return published


class HubSpotStandIn:
    """Answers a batch upsert after `latency` seconds, every record applied."""

    def __init__(self) -> None:
        self.latency = 0.0
        self.requests = 0

    def __call__(self, request: Request) -> Response:
        inputs = request.get_json()["inputs"]
        self.requests += 1
        if self.latency:
            time.sleep(self.latency)
        results = [{"id": str(i), "properties": {}} for i, _ in enumerate(inputs)]
        return Response(json.dumps({"status": "COMPLETE", "results": results}), 200,
                        content_type="application/json")  # fmt: skip


def one_sync(folder: Path, url: str, published: Path, state: Path,
             rate: tuple[int, float]) -> dict[str, Any]:  # fmt: skip
    config_path = folder / "crm.yml"
    config_path.write_text(json.dumps({
        "destination": "hubspot", "url": url, "batch_size": BATCH,
        "published": str(published), "state": str(state),
        "rate_limit": {"requests": rate[0], "per_seconds": rate[1]},
    }))  # fmt: skip
    config = load_config(config_path)
    started = time.perf_counter()
    summary = run_sync(config, out=io.StringIO(), progress=io.StringIO())
    seconds = time.perf_counter() - started
    return {
        "seconds": seconds,
        "acknowledged": summary.acknowledged,
        "requests": summary.requests,
        "records_per_second": summary.acknowledged / seconds if summary.acknowledged else 0.0,
        "rate_limited_seconds": summary.rate_limited_seconds,
    }


def main() -> None:
    _, bench = Bench.start(__doc__)
    folder = bench.root / "sync"
    folder.mkdir(parents=True, exist_ok=True)
    n = RECORDS[bench.scale.name]
    published = write_outbox(folder, n)
    os.environ["LEADSCORE_DB"] = str(folder / "no-warehouse.duckdb")  # nothing to wait for
    os.environ["LEADSCORE_CRM_TOKEN"] = "bench-token"
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no line per request
    crm = HubSpotStandIn()
    server = HTTPServer(host="127.0.0.1", threaded=True)
    server.expect_request("/crm/v3/objects/contacts/batch/upsert").respond_with_handler(crm)
    server.start()
    unlimited = (1_000_000, 1.0)
    # HubSpot's default (100 requests / 10 s); the tiny mode scales the window down
    limited = (100, 10.0) if bench.scale.name != "tiny" else (2, 0.5)
    figures: dict[str, Any] = {"records": n, "batch_size": BATCH, "by_latency": {}}
    try:
        for latency in LATENCIES[bench.scale.name]:
            crm.latency = latency
            runs = []
            for repeat in range(bench.repeats):
                state = folder / f"state-{latency}-{repeat}.duckdb"
                state.unlink(missing_ok=True)
                runs.append(one_sync(folder, server.url_for(""), published, state, unlimited))
            best = sorted(runs, key=lambda r: r["seconds"])[len(runs) // 2]
            bound = BATCH / latency if latency else None
            figures["by_latency"][str(latency)] = {
                **best,
                "bound_records_per_second": bound,
                "ratio_to_bound": best["records_per_second"] / bound if bound else None,
            }
            print(
                f"latency {latency * 1000:4.0f} ms: {best['records_per_second']:9.0f} records/s"
                + (f"  (bound {bound:.0f}, {best['records_per_second'] / bound:.2f}x)"
                   if bound else "  (no latency: the client's own cost per batch)")
            )  # fmt: skip
        crm.latency = 0.005
        state = folder / "state-limited.duckdb"
        state.unlink(missing_ok=True)
        run = one_sync(folder, server.url_for(""), published, state, limited)
        bound = limited[0] * BATCH / limited[1]
        figures["rate_limited"] = {
            **run, "limit_requests": limited[0], "limit_per_seconds": limited[1],
            "latency": 0.005, "bound_records_per_second": bound,
            "ratio_to_bound": run["records_per_second"] / bound,
        }  # fmt: skip
        print(
            f"rate limit {limited[0]} requests / {limited[1]:g} s, latency 5 ms: "
            f"{run['records_per_second']:.0f} records/s (long-run bound {bound:.0f}; the first "
            f"window's burst lifts a short run above it), "
            f"waited {run['rate_limited_seconds']:.1f} s"
        )
        requests = crm.requests
        unchanged = one_sync(folder, server.url_for(""), published, state, limited)
        figures["nothing_changed"] = {
            "seconds": unchanged["seconds"], "requests": crm.requests - requests,
        }  # fmt: skip
        print(
            f"nothing changed: {unchanged['seconds']:.2f} s to compare {n} records with the "
            f"state, {crm.requests - requests} requests"
        )
    finally:
        server.stop()
    bench.figures = figures
    print(f"results: {bench.write('sync')}")


if __name__ == "__main__":
    main()
