"""Benchmark training: time and peak memory of `python python/train.py` on a training set of
about a million rows (L; S has ~0.5M), sized with the dbt var max_training_cutoffs.

    .venv/bin/python bench/bench_training.py --scale L      # 4 cutoffs of 1M leads
    .venv/bin/python bench/bench_training.py --scale S      # all 15 cutoffs of 100k leads
    .venv/bin/python bench/bench_training.py --scale tiny   # CI smoke: small trees

lead_training_set is rebuilt with the chosen number of cutoffs (timed once), then train.py runs
--repeats times with the default settings (every core). Each run writes a version to a scratch
artifacts folder without promoting it, so the workspace's champion (used by the scoring and
incremental benchmarks) does not change. Results: bench/results/training_<scale>.json.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
from pathlib import Path

import duckdb

from benchlib import (
    BIN,
    NO_TESTS,
    ROOT,
    Bench,
    gib,
    load_average,
    median,
    say,
    summary,
    table,
)

# the fewest cutoffs training accepts is 4 (train, validation, calibration, test): on L those
# hold ~1M rows; S keeps the default 15 (~0.5M rows)
CUTOFFS = {"tiny": None, "S": None, "L": 4}


def options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--cutoffs", type=int, default=None,
                        help="var max_training_cutoffs (default: 4 for L, else the project's)")
    parser.add_argument("--rows", type=int, default=None,
                        help="train on about this many rows: a sample of whole leads of "
                        "lead_training_set, in a DuckDB file of its own (reuses the table)")


def sample_warehouse(bench: Bench, rows: int, total: int) -> Path:
    """A DuckDB file holding lead_training_set restricted to a hash sample of its leads."""
    path = bench.root / "training-sample.duckdb"
    path.unlink(missing_ok=True)
    per_mille = max(1, min(1000, round(1000 * rows / total)))
    con = duckdb.connect(str(path))
    try:
        con.execute(f"attach '{bench.warehouse}' as source (read_only)")
        con.execute("create table lead_training_set as select * from source.lead_training_set "
                    f"where hash(lead_id) % 1000 < {per_mille} order by as_of, lead_id")
    finally:
        con.close()
    return path


def training_set_shape(bench: Bench, warehouse: Path | None = None) -> tuple[int, int]:
    rows, cutoffs = bench.sql(
        "select count(*), count(distinct as_of) from lead_training_set", warehouse
    )[0]
    return rows, cutoffs


def main() -> None:
    args, bench = Bench.start(__doc__, options, data=True)
    cutoffs = args.cutoffs or CUTOFFS[bench.scale.name]
    extra = f"max_training_cutoffs: {cutoffs}" if cutoffs else ""
    build_seconds = None
    if not (args.rows and bench.has_table("lead_training_set")):
        say(f"building lead_training_set ({cutoffs or 'default'} cutoffs)")
        build = bench.dbt("build", "--select", "+lead_training_set", *NO_TESTS, vars=extra)
        build_seconds = build.models.get("lead_training_set")
    rows, n_cutoffs = training_set_shape(bench)
    warehouse = bench.warehouse
    if args.rows:
        warehouse = sample_warehouse(bench, args.rows, rows)
        rows, n_cutoffs = training_set_shape(bench, warehouse)
    say(f"{rows:,} training rows over {n_cutoffs} cutoffs; load {load_average():.2f}")

    scratch = bench.root / "training-artifacts"
    runs, loads, logs = [], [], []
    for repeat in range(bench.repeats):
        shutil.rmtree(scratch, ignore_errors=True)
        loads.append(load_average())
        run = bench.run(
            str(BIN / "python"), str(ROOT / "python" / "train.py"), *bench.scale.train_args,
            "--warehouse", str(warehouse), "--artifacts", str(scratch), "--no-promote",
            "--version", f"bench-{repeat}",
            label="train",
        )
        runs.append(run)
        logs.append((bench.root / "logs" / "bench-last-command.log").read_text())
        say(f"repeat {repeat + 1}: {run.wall:.1f}s, peak {gib(run.peak_rss)}")
    metadata_path = scratch / "models" / f"bench-{bench.repeats - 1}" / "metadata.json"
    metrics = json.loads(metadata_path.read_text())["metrics"]
    shutil.rmtree(scratch, ignore_errors=True)

    best = re.findall(r"best iteration (\d+)", logs[-1])
    test_auc = metrics.get("test", {}).get("auc")
    oracle_auc = metrics.get("oracle_auc")
    f = bench.figures
    f.update(
        training_rows=rows,
        cutoffs=n_cutoffs,
        max_training_cutoffs=cutoffs,
        training_set_build_seconds=build_seconds,
        sampled_to_rows=args.rows,
        load_average_1m=loads,
        train_seconds=summary([r.wall for r in runs]),
        train_rows_per_second=rows / median([r.wall for r in runs]),
        train_peak_rss_bytes=max(r.peak_rss for r in runs),
        best_iteration=int(best[0]) if best else None,
        test_auc=test_auc,
        oracle_auc=oracle_auc,
    )
    print()
    print(table(
        [
            ["lead_training_set build (dbt)", f["training_set_build_seconds"] or "reused", ""],
            [f"train.py on {rows:,} rows (median)", f["train_seconds"]["median"],
             gib(f["train_peak_rss_bytes"])],
        ],
        ["step", "seconds", "peak RSS"],
    ))
    print(f"\n{f['train_rows_per_second']:,.0f} training rows/s; best iteration "
          f"{f['best_iteration']}; test AUC {f['test_auc']} (oracle {f['oracle_auc']})")
    bench.write(f"training_{args.rows}rows" if args.rows else "training")


if __name__ == "__main__":
    main()
