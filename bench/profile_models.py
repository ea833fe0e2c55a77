"""Profile dbt models with DuckDB's query profiler: where a model's time goes, operator by
operator. The answer to "what bounds it" when a benchmark misses its target.

    .venv/bin/python bench/profile_models.py --scale S                  # the feature pipeline
    .venv/bin/python bench/profile_models.py --scale L base_raw__events  # one model

Runs in a benchmark workspace after bench_features.py built it: each model's compiled SQL
(target/compiled, as the last full build wrote it) is run once more into a temporary table on a
read-only connection to the warehouse, with profiling on; nothing in the warehouse changes.
Prints, per model, its wall and CPU time and the operators that take >= 3% of the CPU time.
Results: bench/results/profile_<scale>.json.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path
from typing import Any

import duckdb

from benchlib import Bench, load_average, say, table

PIPELINE = ("base_raw__events", "int_lead_events_sessionized", "lead_features")
SHOWN_SHARE = 0.03


def options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("models", nargs="*", default=list(PIPELINE),
                        help=f"models to profile (default: {' '.join(PIPELINE)})")


def compiled_sql(bench: Bench, model: str) -> str:
    found = sorted((bench.target / "compiled").rglob(f"{model}.sql"))
    if not found:
        raise SystemExit(
            f"no compiled SQL for {model} under {bench.target / 'compiled'}: run "
            f"bench/bench_features.py --scale {bench.scale.name} first"
        )
    return found[0].read_text()


def operators(node: dict[str, Any], depth: int = 0) -> list[dict[str, Any]]:
    """Every operator of a profile tree, flattened, with its own (exclusive) time."""
    extra = node.get("extra_info") or {}
    detail = extra.get("Function") or extra.get("Table") or extra.get("Join Type") or ""
    if node.get("type") == "WINDOW":
        detail = "window (sort + evaluate)"
    found = [{
        "operator": node.get("type", "?"),
        "detail": str(detail)[:60],
        "seconds": float(node.get("timing", 0.0)),
        "rows": int(node.get("intermediate_rows", 0) or node.get("operator_cardinality", 0)),
        "depth": depth,
    }]
    for child in node.get("children", []):
        found += operators(child, depth + 1)
    return found


def profile(con: duckdb.DuckDBPyConnection, sql: str) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as folder:
        output = Path(folder) / "profile.json"
        con.execute("pragma enable_profiling = 'json'")
        con.execute(f"pragma profiling_output = '{output}'")
        start = time.perf_counter()
        con.execute(f"create or replace temp table profiled as {sql}")
        wall = time.perf_counter() - start
        con.execute("pragma disable_profiling")
        tree = json.loads(output.read_text())
    query = tree.get("query")
    cpu = query.get("cpu_time") if isinstance(query, dict) else tree.get("cpu_time")
    ops = [op for root in tree.get("operator", [tree]) for op in operators(root)]
    cpu = float(cpu or sum(op["seconds"] for op in ops))
    return {"wall_seconds": wall, "cpu_seconds": cpu, "operators": ops}


def main() -> None:
    args, bench = Bench.start(__doc__, options)
    con = duckdb.connect(str(bench.warehouse), read_only=True)
    say(f"profiling {', '.join(args.models)} in {bench.warehouse}; load {load_average():.2f}")
    results = {}
    try:
        for model in args.models:
            result = profile(con, compiled_sql(bench, model))
            results[model] = result
            cpu = result["cpu_seconds"]
            shown = sorted(
                (op for op in result["operators"] if op["seconds"] >= SHOWN_SHARE * cpu),
                key=lambda op: -op["seconds"],
            )
            print(f"\n{model}: {result['wall_seconds']:.2f}s wall, {cpu:.2f}s CPU")
            print(table(
                [[op["operator"], op["detail"], op["seconds"], f"{op['seconds'] / cpu:.0%}",
                  f"{op['rows']:,}"] for op in shown],
                ["operator", "detail", "CPU seconds", "share", "rows out"],
            ))
    finally:
        con.close()
    bench.figures.update(models=results)
    bench.write("profile")


if __name__ == "__main__":
    main()
