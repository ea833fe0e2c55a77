"""DuckDB beside Spark local[N] (and, with --cluster, a two-worker standalone cluster): the core
path (staging, timeline, lead_features, lead_training_set, lead_scores) on the same data, with
the same model, in the same run.

    .venv/bin/python bench/bench_spark.py --leads 2000 [--cluster] [--local-cores 2]

Prints wall seconds, leads/s and leads/s per core of each engine, the ratios, and from the
per-core rates the number of cluster cores at which Spark would overtake one DuckDB machine
(of `--duckdb-cores` cores) for 10M and 100M leads. The rates include each engine's fixed
costs (dbt parse, JVM and catalog start for Spark), which dominate small runs: the
extrapolation is only as good as the scale it was measured at.
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
    started = time.monotonic()
    result = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(
            f"{' '.join(cmd)} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
        )
    return time.monotonic() - started


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
    figures: dict[str, float] = {}
    # DuckDB: features, then a model, then the scores (the model is shared with Spark)
    duck = run([str(BIN / "dbt"), "build", "--select", *CORE[:3], *NO_TESTS, *vars_], env)
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
    duck += run([str(BIN / "dbt"), "build", "--select", "lead_scores", *NO_TESTS, *vars_], env)
    figures["duckdb_s"] = duck
    spark_args = ["build", "--select", *CORE, *NO_TESTS, *vars_]
    figures["spark_local_s"] = run(
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
    if args.cluster:
        figures["spark_cluster_s"] = run(
            ["bash", str(ROOT / "bench" / "spark_cluster.sh"), *spark_args], env
        )
    cores = {"duckdb_s": args.duckdb_cores, "spark_local_s": args.local_cores, "spark_cluster_s": 2}
    print(f"{args.leads:,} leads, as_of {AS_OF}, machine load {os.getloadavg()[0]:.1f}")
    for name, seconds in figures.items():
        rate = args.leads / seconds
        print(
            f"  {name:16s} {seconds:8.1f} s  {rate:9.1f} leads/s  "
            f"{rate / cores[name]:9.1f} leads/s/core  ({seconds / figures['duckdb_s']:.1f}x DuckDB)"
        )
    duck_rate = args.leads / figures["duckdb_s"]
    for name in ("spark_local_s", "spark_cluster_s"):
        if name not in figures:
            continue
        per_core = args.leads / figures[name] / cores[name]
        for leads in (10_000_000, 100_000_000):
            # cores at which Spark's wall time equals one DuckDB machine's (linear scaling assumed)
            print(
                f"  {name}: {leads:,} leads: DuckDB ~{leads / duck_rate / 3600:.1f} h; Spark "
                f"overtakes it from ~{duck_rate / per_core:.0f} cores at this per-core rate"
            )
    out = ROOT / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / "bench_spark.json").write_text(json.dumps({"leads": args.leads, **figures}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
