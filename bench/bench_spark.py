"""DuckDB beside Spark local[N] (and, with --cluster, a two-worker standalone cluster): the core
path (staging, timeline, lead_features, lead_training_set, lead_scores) on the same data, with
the same model, in the same run, at one or more sizes.

    .venv/bin/python bench/bench_spark.py --leads 2000 10000 [--cluster] [--local-cores 2]

Prints, per size and engine, the whole command's wall seconds and the models' seconds (the sum
of dbt's per-model execution times: what is left once the JVM, the session, the raw inputs and
dbt's parse have started), leads/s and leads/s per core of the models, and the ratios to
DuckDB. At small sizes every engine's per-model time is mostly fixed cost (planning, task and
Python worker start-up), so with two or more sizes the script fits models s = fixed + leads /
rate per engine (least squares) and extrapolates with the marginal rate: the hours one DuckDB
machine (of `--duckdb-cores` cores) needs for 10M and 100M leads, and the number of Spark cores
from which Spark is faster (linear scaling with cores assumed, which a shuffle-heavy job does
not quite reach). With one size it falls back to that size's average rates.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
AS_OF = "2026-06-01 00:00:00"
CORE = ["+lead_features", "+lead_training_set", "resource_type:seed", "lead_scores"]
NO_TESTS = ["--exclude-resource-type", "test", "unit_test"]


def run(cmd: list[str], env: dict[str, str]) -> float:
    print(f"[bench] {' '.join(cmd)[:160]}", flush=True)
    started = time.monotonic()
    result = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(
            f"{' '.join(cmd)} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
        )
    return time.monotonic() - started


def model_seconds(target: Path) -> float:
    """The summed execution time of the models of dbt's last run (run_results.json)."""
    results = json.loads((target / "run_results.json").read_text())["results"]
    return sum(r["execution_time"] for r in results if r["unique_id"].startswith("model."))


def build_once(args: argparse.Namespace, root: Path, leads: int) -> dict[str, Any]:
    """Generate `leads` leads (once per folder), then build them on every engine."""
    from leadscore.workspace import Workspace

    root.mkdir(parents=True, exist_ok=True)
    env = Workspace(root).env()
    env.update({"LEADSCORE_SPARK_HOME": str(root / "spark"), "PYTHONPATH": str(ROOT / "python")})
    vars_ = ["--vars", f"{{as_of: '{AS_OF}'}}"]
    if not (root / "raw" / "leads.csv").exists():
        generate = [str(BIN / "leadscore"), "generate", "--leads", str(leads), "--end"]
        generate += ["2026-06-01", "--months", "12", "--out", str(root / "raw")]
        run([*generate, "--truth-out", str(root / "truth"), "--quiet"], env)
    target = Path(env["DBT_TARGET_PATH"])
    wall: dict[str, float] = {}
    models: dict[str, float] = {}
    # DuckDB: features, then a model, then the scores (the model is shared with Spark)
    wall["duckdb"] = run([str(BIN / "dbt"), "build", "--select", *CORE[:3], *NO_TESTS, *vars_], env)
    models["duckdb"] = model_seconds(target)
    train = [str(BIN / "python"), "python/train.py", "--threads", "1"]
    run([*train, "--min-fold-rows", "20", "--min-data-in-leaf", "10"], env)
    wall["duckdb"] += run(
        [str(BIN / "dbt"), "build", "--select", "lead_scores", *NO_TESTS, *vars_], env
    )
    models["duckdb"] += model_seconds(target)
    spark_args = ["build", "--select", *CORE, *NO_TESTS, *vars_]
    local = f"spark local[{args.local_cores}]"
    master = ["--master", f"local[{args.local_cores}]"]
    wall[local] = run(
        [str(BIN / "leadscore"), "build", "--target", "spark", *master, *spark_args], env
    )
    models[local] = model_seconds(target)
    cores = {"duckdb": args.duckdb_cores, local: args.local_cores}
    if args.cluster:
        workers = int(os.environ.get("SPARK_WORKER_CORES", "1"))
        cluster = f"spark 2 workers x {workers}"
        wall[cluster] = run(["bash", str(ROOT / "bench" / "spark_cluster.sh"), *spark_args], env)
        models[cluster] = model_seconds(target)
        cores[cluster] = 2 * workers
    with open(root / "raw" / "events.csv", encoding="utf-8") as f:
        events = sum(1 for _ in f) - 1
    print(
        f"{leads:,} leads ({events:,} events), as_of {AS_OF}, "
        f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"
    )
    print(
        f"  {'engine':24s} {'wall s':>8s} {'models s':>9s} {'leads/s':>9s} "
        f"{'leads/s/core':>13s} {'models vs DuckDB':>17s}"
    )
    for engine in wall:
        rate = leads / models[engine]
        print(
            f"  {engine:24s} {wall[engine]:8.1f} {models[engine]:9.1f} {rate:9.1f} "
            f"{rate / cores[engine]:13.1f} {models[engine] / models['duckdb']:16.1f}x"
        )
    return {"leads": leads, "events": events, "wall_s": wall, "models_s": models, "cores": cores}


def fit(runs: list[dict[str, Any]], engine: str) -> tuple[float, float]:
    """(fixed seconds, marginal leads/s) of `models s = fixed + leads / rate` over the sizes;
    with one size, no fixed part and that size's average rate."""
    leads = np.array([r["leads"] for r in runs], dtype=float)
    seconds = np.array([r["models_s"][engine] for r in runs], dtype=float)
    if len(runs) < 2:
        return 0.0, float(leads[0] / seconds[0])
    slope, fixed = np.polyfit(leads, seconds, 1)
    if slope <= 0:  # noise larger than the growth: the sizes are too close to tell
        return 0.0, float(leads[-1] / seconds[-1])
    return float(max(fixed, 0.0)), float(1.0 / slope)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--leads", type=int, nargs="+", default=[2000])
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/leadscore-bench/spark"))
    parser.add_argument("--local-cores", type=int, default=2)
    parser.add_argument("--duckdb-cores", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--cluster", action="store_true", help="also run bench/spark_cluster.sh")
    args = parser.parse_args()

    started = time.monotonic()
    runs = [
        build_once(args, args.workdir.resolve() / f"leads{leads}", leads)
        for leads in sorted(args.leads)
    ]
    cores = runs[-1]["cores"]
    duck_fixed, duck_rate = fit(runs, "duckdb")
    print(f"models s = fixed + leads / marginal rate, fitted over {[r['leads'] for r in runs]}:")
    print(f"  {'engine':24s} {'fixed s':>8s} {'leads/s':>9s} {'leads/s/core':>13s}")
    fitted = {}
    for engine in cores:
        fixed, rate = fit(runs, engine)
        fitted[engine] = {"fixed_s": fixed, "marginal_leads_per_s": rate}
        print(f"  {engine:24s} {fixed:8.1f} {rate:9.1f} {rate / cores[engine]:13.1f}")
    for leads in (10_000_000, 100_000_000):
        duck_hours = (duck_fixed + leads / duck_rate) / 3600
        print(f"  {leads:>11,} leads: DuckDB ~{duck_hours:.1f} h on {cores['duckdb']} cores")
        for engine in cores:
            if engine == "duckdb":
                continue
            per_core = fitted[engine]["marginal_leads_per_s"] / cores[engine]
            budget = duck_hours * 3600 - fitted[engine]["fixed_s"]
            needed = leads / per_core / budget if budget > 0 else float("inf")
            print(f"    {engine}: Spark is faster from ~{needed:.0f} cores (linear scaling)")
    print(f"whole run {time.monotonic() - started:.0f} s")
    out = ROOT / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / "bench_spark.json").write_text(json.dumps({"runs": runs, "fit": fitted}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
