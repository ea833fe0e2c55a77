"""DuckDB beside Spark local[N] (and, with --cluster, a two-worker standalone cluster): the core
path (staging, timeline, lead_features, lead_training_set, lead_scores) on the same data, with
the same model, in the same run.

    .venv/bin/python bench/bench_spark.py --leads 2000 [--cluster] [--local-cores 2]

Prints, per engine, the whole command's wall seconds and the models' seconds (the sum of
dbt's per-model execution times: what is left once the JVM, the session, the raw inputs and
dbt's parse have started), leads/s and leads/s per core of the models, the ratios to DuckDB,
and from the per-core rates the number of cluster cores at which Spark would overtake one
DuckDB machine (of `--duckdb-cores` cores) for 10M and 100M leads. At small scales every
engine's per-model time is mostly fixed cost (planning, task start-up), which the rates
include: the extrapolation is only as good as the scale it was measured at.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--leads", type=int, default=2000)
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/leadscore-bench/spark"))
    parser.add_argument("--local-cores", type=int, default=2)
    parser.add_argument("--duckdb-cores", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--cluster", action="store_true", help="also run bench/spark_cluster.sh")
    args = parser.parse_args()

    root = args.workdir.resolve()
    root.mkdir(parents=True, exist_ok=True)
    from leadscore.workspace import Workspace

    env = Workspace(root).env()
    env.update(
        {
            "LEADSCORE_SPARK_HOME": str(root / "spark"),
            "PYTHONPATH": str(ROOT / "python"),
        }
    )
    vars_ = ["--vars", f"{{as_of: '{AS_OF}'}}"]
    if not (root / "raw" / "leads.csv").exists():
        run(
            [
                str(BIN / "leadscore"),
                "generate",
                "--leads",
                str(args.leads),
                "--end",
                "2026-06-01",
                "--months",
                "12",
                "--out",
                str(root / "raw"),
                "--truth-out",
                str(root / "truth"),
                "--quiet",
            ],
            env,
        )
    target = Path(env["DBT_TARGET_PATH"])
    wall: dict[str, float] = {}
    models: dict[str, float] = {}
    # DuckDB: features, then a model, then the scores (the model is shared with Spark)
    wall["duckdb"] = run([str(BIN / "dbt"), "build", "--select", *CORE[:3], *NO_TESTS, *vars_], env)
    models["duckdb"] = model_seconds(target)
    run(
        [
            str(BIN / "python"),
            "python/train.py",
            "--threads",
            "1",
            "--min-fold-rows",
            "20",
            "--min-data-in-leaf",
            "10",
        ],
        env,
    )
    wall["duckdb"] += run(
        [str(BIN / "dbt"), "build", "--select", "lead_scores", *NO_TESTS, *vars_], env
    )
    models["duckdb"] += model_seconds(target)
    spark_args = ["build", "--select", *CORE, *NO_TESTS, *vars_]
    name = f"spark local[{args.local_cores}]"
    wall[name] = run(
        [
            str(BIN / "leadscore"),
            "build",
            "--target",
            "spark",
            "--master",
            f"local[{args.local_cores}]",
            *spark_args,
        ],
        env,
    )
    models[name] = model_seconds(target)
    cores = {"duckdb": args.duckdb_cores, name: args.local_cores}
    if args.cluster:
        workers = int(os.environ.get("SPARK_WORKER_CORES", "1"))
        cluster = f"spark 2 workers x {workers}"
        wall[cluster] = run(["bash", str(ROOT / "bench" / "spark_cluster.sh"), *spark_args], env)
        models[cluster] = model_seconds(target)
        cores[cluster] = 2 * workers
    with open(root / "raw" / "events.csv", encoding="utf-8") as f:
        events = sum(1 for _ in f) - 1
    print(
        f"{args.leads:,} leads ({events:,} events), as_of {AS_OF}, "
        f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"
    )
    print(
        f"  {'engine':24s} {'wall s':>8s} {'models s':>9s} {'leads/s':>9s} "
        f"{'leads/s/core':>13s} {'models vs DuckDB':>17s}"
    )
    for engine in wall:
        rate = args.leads / models[engine]
        print(
            f"  {engine:24s} {wall[engine]:8.1f} {models[engine]:9.1f} {rate:9.1f} "
            f"{rate / cores[engine]:13.1f} {models[engine] / models['duckdb']:16.1f}x"
        )
    duck_rate = args.leads / models["duckdb"]
    for engine in wall:
        if engine == "duckdb":
            continue
        per_core = args.leads / models[engine] / cores[engine]
        needed = duck_rate / per_core
        for leads in (10_000_000, 100_000_000):
            # cores at which Spark's model time equals one DuckDB machine's (linear scaling)
            print(
                f"  {engine}: {leads:>11,} leads: DuckDB ~{leads / duck_rate / 3600:.1f} h on "
                f"{args.duckdb_cores} cores; Spark overtakes it from ~{needed:.0f} cores"
            )
    figures = {
        "events": events,
        "wall_s": wall,
        "models_s": models,
        "cores": cores,
    }
    out = ROOT / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / "bench_spark.json").write_text(json.dumps({"leads": args.leads, **figures}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
