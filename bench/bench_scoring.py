"""Benchmark scoring: the leadscore_score UDF in DuckDB against raw onnxruntime and LightGBM on
the same rows, and the full lead_scores mart (probabilities plus TreeSHAP reasons).

    .venv/bin/python bench/bench_scoring.py --scale S      # model trained on S, 100k leads
    .venv/bin/python bench/bench_scoring.py --scale L      # the S model, 1M leads
    .venv/bin/python bench/bench_scoring.py --scale tiny   # CI smoke

The feature vectors are built once (the same encoding as macros/scoring.sql), then each repeat
times, back to back and with the same thread budget: `select leadscore_score(...)` over them
on a DuckDB connection with leadscore.udf registered; raw onnxruntime on the same rows as a
float32 array (split in one part per thread, and in 2,048-row chunks); LightGBM
Booster.predict on the same array; all at every core and at one thread. Also: TreeSHAP per
row (leadscore_contributions), the lead_scores mart built by dbt (--full-refresh) with its
peak memory, and the peak memory of a process that only scores. When the vectors fill fewer row
groups than there are cores (DuckDB scans one row group per thread), the UDF is also timed over
the same vectors stored in 16,384-row row groups: what the row groups, not the UDF, cost.
Results: bench/results/scoring_<scale>.json.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import duckdb
import numpy as np

from benchlib import (
    BIN,
    NO_TESTS,
    S_ARTIFACTS,
    Bench,
    Run,
    gib,
    load_average,
    median,
    parse_args,
    run_measured,
    say,
    summary,
    table,
    timed,
)

SHAP_SAMPLE_ROWS = 20_000
ROW_GROUP_ROWS = 122_880  # DuckDB's default
SPLIT_ROW_GROUP_ROWS = 16_384


def options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--model-from", type=Path, default=None,
        help="artifacts folder whose champion to use (default for L: the S workspace's)",
    )
    parser.add_argument("--mart-repeats", type=int, default=None,
                        help="full lead_scores builds (default: --repeats)")
    parser.add_argument("--child-score", nargs="+", metavar="WAREHOUSE ARTIFACTS VERSION [LIMIT]",
                        help=argparse.SUPPRESS)


# --------------------------------------------------------------------------- inputs
def encoded(feature: dict[str, Any]) -> str:
    """A feature as the model's input, exactly as leadscore_encoded in macros/scoring.sql."""
    name = feature["name"]
    if feature["kind"] != "categorical":
        return f"cast({name} as double)"
    vocabulary = ", ".join("'" + v.replace("'", "''") + "'" for v in feature["vocabulary"])
    return (
        f"case when {name} is null then null else coalesce(nullif(list_position("
        f"[{vocabulary}]::varchar[], {name}), 0), 0) - 1 end"
    )


def vector_sql(metadata: dict[str, Any]) -> str:
    return "[" + ", ".join(encoded(f) for f in metadata["features"]) + "]::double[]"


def scoring_connection(bench: Bench) -> duckdb.DuckDBPyConnection:
    """The warehouse (attached read only) with the leadscore functions, as the dbt plugin sets
    it up."""
    from leadscore import udf

    con = duckdb.connect()
    con.execute(f"attach '{bench.warehouse}' as warehouse (read_only)")
    con.execute("use warehouse")
    udf.register(con, bench.artifacts)
    return con


def split_vectors_path(bench: Bench) -> Path:
    return bench.root / "vectors_split.duckdb"


def split_vectors(con: duckdb.DuckDBPyConnection, bench: Bench) -> str:
    """The vectors again, in a scratch database with small row groups; returns the table."""
    path = split_vectors_path(bench)
    path.unlink(missing_ok=True)
    con.execute(f"attach '{path}' as split (row_group_size {SPLIT_ROW_GROUP_ROWS})")
    con.execute("create table split.vectors as select * from vectors")
    return "split.vectors"


# --------------------------------------------------------------------------- the contenders
def udf_seconds(
    con: duckdb.DuckDBPyConnection, version: str, threads: int, vectors: str = "vectors"
) -> float:
    """`select leadscore_score(...)` over every vector, with DuckDB and leadscore's scoring pool
    each held to `threads` threads."""
    con.execute(f"set threads = {threads}")
    os.environ["LEADSCORE_ORT_THREADS"] = str(threads)
    return timed(lambda: con.execute(
        f"select sum(leadscore_score('{version}', fv)) from {vectors}"
    ).fetchall())


def onnxruntime_seconds(session: Any, x32: np.ndarray, threads: int) -> float:
    """Raw onnxruntime on `threads` cores the way that is fastest and exact: the rows split
    across threads, one single-threaded session.run each (runs release the GIL). An intra-op
    thread pool is measured too, but it is slower here and splits trees, not rows."""
    name = session.get_inputs()[0].name
    if threads == 1:
        return timed(lambda: session.run(None, {name: x32}))
    parts = np.array_split(x32, threads)
    with ThreadPoolExecutor(threads) as pool:
        return timed(lambda: list(pool.map(lambda part: session.run(None, {name: part}), parts)))


def onnxruntime_chunked_seconds(session: Any, x32: np.ndarray, threads: int) -> float:
    """Raw onnxruntime fed as the UDF is fed: 2,048-row chunks (DuckDB's vector size) spread
    over `threads` threads. Small chunks stay in cache, so this is often faster than one run."""
    name = session.get_inputs()[0].name
    chunks = [x32[i:i + 2048] for i in range(0, len(x32), 2048)]
    with ThreadPoolExecutor(threads) as pool:
        return timed(lambda: list(pool.map(lambda c: session.run(None, {name: c}), chunks)))


def udf_breakdown(con: duckdb.DuckDBPyConnection, scorer: Any) -> dict[str, float]:
    """Where a UDF call's time goes, step by step on one thread, over DuckDB's own 2,048-row
    batches of the same vectors: DuckDB hands the batch over (scan + Arrow), the list becomes a
    matrix, LightGBM's input convention (float32), onnxruntime, calibration, back to Arrow."""
    import pyarrow as pa

    from leadscore.calibration import apply_calibration
    from leadscore.model_input import as_model_input
    from leadscore.udf import features_to_matrix

    steps = dict.fromkeys(
        ("duckdb_to_arrow", "list_to_matrix", "float32_input", "onnxruntime", "calibration",
         "to_arrow"), 0.0)
    start = time.perf_counter()
    reader = con.sql("select fv from vectors").to_arrow_reader(2048)
    batches = list(reader)
    steps["duckdb_to_arrow"] = time.perf_counter() - start
    name = scorer.session.get_inputs()[0].name
    for batch in batches:
        t0 = time.perf_counter()
        matrix, is_null = features_to_matrix(batch.column(0), scorer.n_features)
        t1 = time.perf_counter()
        x = as_model_input(matrix)
        t2 = time.perf_counter()
        raw = np.asarray(scorer.session.run(None, {name: x})[1], dtype=np.float64)[:, 1]
        t3 = time.perf_counter()
        p = np.clip(apply_calibration(scorer.metadata["calibration"], raw), 0, 1)
        t4 = time.perf_counter()
        pa.array(p, mask=is_null, type=pa.float64())
        t5 = time.perf_counter()
        spent = (t1 - t0, t2 - t1, t3 - t2, t4 - t3, t5 - t4)
        for step, seconds in zip(list(steps)[1:], spent, strict=True):
            steps[step] += seconds
    return steps


def build_mart(bench: Bench) -> Run:
    run = bench.dbt(
        "build", "--select", "reason_templates", "lead_scores", "--full-refresh", *NO_TESTS
    )
    say(f"lead_scores mart: {run.models['lead_scores']:.1f}s, peak {gib(run.peak_rss)}")
    return run


def child_score(warehouse: str, artifacts: str, version: str, memory_limit: str = "") -> None:
    """Score every lead and keep the result, in a fresh process whose peak memory is measured
    (with DuckDB's memory_limit set when one is given)."""
    from leadscore import udf

    con = duckdb.connect(warehouse, read_only=True)
    if memory_limit:
        con.execute(f"set memory_limit = '{memory_limit}'")
    udf.register(con, Path(artifacts))
    metadata = udf.get_scorer(version, Path(artifacts)).metadata
    con.execute(
        "create temp table scores as select lead_id, "
        f"leadscore_score('{version}', {vector_sql(metadata)}) as p from lead_features"
    )
    print(con.execute("select count(*), avg(p) from scores").fetchone())


def main() -> None:
    args = parse_args(__doc__.splitlines()[0], options)
    if args.child_score:
        child_score(*args.child_score)
        return
    bench = Bench.from_args(args)
    bench.use_env()
    default_source = S_ARTIFACTS if bench.scale.name == "L" else None
    version = bench.use_model(args.model_from or default_source)
    bench.ensure_features()
    from leadscore.model_input import as_model_input
    from leadscore.scoring import get_scorer, onnx_session
    from leadscore.udf import features_to_matrix

    scorer = get_scorer(version, bench.artifacts)
    import lightgbm as lgb

    booster = lgb.Booster(model_file=str(scorer.artifact.lightgbm_path))
    cores = os.cpu_count() or 1
    con = scoring_connection(bench)
    con.execute(f"create temp table vectors as select lead_id, {vector_sql(scorer.metadata)} as fv "
                "from lead_features")
    matrix, _ = features_to_matrix(
        con.sql("select fv from vectors").to_arrow_table().column("fv"), scorer.n_features
    )
    # the float32 array the UDF hands onnxruntime (LightGBM's zero rule applied)
    x32 = as_model_input(matrix)
    rows = len(x32)
    row_groups = -(-rows // ROW_GROUP_ROWS)
    split = split_vectors(con, bench) if row_groups < cores else None
    session = onnx_session(scorer.artifact.onnx_path, threads=1)
    intra_op = onnx_session(scorer.artifact.onnx_path, threads=cores)
    trees = booster.num_trees()
    say(f"{rows:,} leads, model {version} ({trees} trees, {scorer.n_features} features), "
        f"{cores} cores; load {load_average():.2f}")

    timings: dict[str, list[float]] = {}
    loads = []
    for repeat in range(bench.repeats):
        loads.append(load_average())
        for threads in sorted({cores, 1}, reverse=True):
            for label, fn in (
                ("udf", lambda t=threads: udf_seconds(con, version, t)),
                ("onnxruntime", lambda t=threads: onnxruntime_seconds(session, x32, t)),
                ("onnxruntime_chunked",
                 lambda t=threads: onnxruntime_chunked_seconds(session, x32, t)),
                ("lightgbm", lambda t=threads: timed(lambda: booster.predict(x32, num_threads=t))),
            ):
                timings.setdefault(f"{label}_{threads}t", []).append(fn())
        if cores > 1:
            timings.setdefault(f"onnxruntime_intra_op_{cores}t", []).append(
                onnxruntime_seconds(intra_op, x32, 1)
            )
        if split:
            timings.setdefault(f"udf_small_row_groups_{cores}t", []).append(
                udf_seconds(con, version, cores, split)
            )
        say(f"repeat {repeat + 1}: " + ", ".join(f"{k} {v[-1]:.2f}s" for k, v in timings.items()))
    con.execute("set threads = 1")
    breakdown = udf_breakdown(con, scorer)
    con.execute(f"set threads = {cores}")
    sample = min(rows, SHAP_SAMPLE_ROWS)
    shap_seconds = timed(lambda: con.execute(
        f"select sum(list_sum(leadscore_contributions('{version}', fv))) "
        f"from (select fv from vectors limit {sample})"
    ).fetchall())
    con.close()
    if split:
        split_vectors_path(bench).unlink(missing_ok=True)

    mart_runs = [build_mart(bench) for _ in range(args.mart_repeats or bench.repeats)]
    # the UDF scores what the warehouse scores: the same probabilities as lead_scores
    probe = scoring_connection(bench)
    probe.execute(f"create temp table udf_scores as select lead_id, "
                  f"leadscore_score('{version}', {vector_sql(scorer.metadata)}) as p "
                  "from lead_features")
    worst = probe.execute(
        "select max(abs(u.p - s.conversion_probability)), count(*) from udf_scores as u "
        "inner join lead_scores as s using (lead_id)"
    ).fetchone()
    probe.close()
    child = run_measured(
        [str(BIN / "python"), __file__, "--child-score", str(bench.warehouse),
         str(bench.artifacts), version],
        bench.env(), "score only",
    )

    m = {k: median(v) for k, v in timings.items()}
    f = bench.figures
    f.update(
        rows=rows,
        # DuckDB scans a table one row group (122,880 rows) per thread at a time
        row_groups=row_groups,
        model_version=version,
        trees=trees,
        features=scorer.n_features,
        cores=cores,
        load_average_1m=loads,
        seconds={k: summary(v) for k, v in timings.items()},
        rows_per_second={k: rows / v for k, v in m.items()},
        udf_step_seconds_one_thread=breakdown,
        udf_vs_mart_max_abs_difference=worst[0],
        udf_vs_mart_rows=worst[1],
        shap_ms_per_row=1000 * shap_seconds / sample,
        shap_sample_rows=sample,
        mart_seconds=summary([r.models["lead_scores"] for r in mart_runs]),
        mart_rows_per_second=rows / median([r.models["lead_scores"] for r in mart_runs]),
        mart_peak_rss_bytes=max(r.peak_rss for r in mart_runs),
        mart_repeats=len(mart_runs),
        score_only_process_peak_rss_bytes=child.peak_rss,
        score_only_process_wall_seconds=child.wall,
    )
    for t in sorted({cores, 1}, reverse=True):
        # throughput ratios: >1 means the UDF scores more rows per second
        f[f"ratio_udf_to_onnxruntime_{t}t"] = m[f"onnxruntime_{t}t"] / m[f"udf_{t}t"]
        f[f"ratio_udf_to_lightgbm_{t}t"] = m[f"lightgbm_{t}t"] / m[f"udf_{t}t"]
        f[f"ratio_udf_to_onnxruntime_chunked_{t}t"] = (
            m[f"onnxruntime_chunked_{t}t"] / m[f"udf_{t}t"]
        )
    print()
    print(table(
        [[k, m[k], rows / m[k]] for k in timings],
        ["probabilities only (median)", "seconds", "rows/s"],
    ))
    if split:
        f["split_row_group_rows"] = SPLIT_ROW_GROUP_ROWS
        f[f"ratio_udf_small_row_groups_to_onnxruntime_{cores}t"] = (
            m[f"onnxruntime_{cores}t"] / m[f"udf_small_row_groups_{cores}t"]
        )
    print()
    print(table(
        [[f"UDF / raw onnxruntime, {t} thread(s)", f[f"ratio_udf_to_onnxruntime_{t}t"], ">= 0.9"]
         for t in sorted({cores, 1}, reverse=True)]
        + [[f"UDF / raw onnxruntime in 2,048-row chunks, {t} thread(s)",
            f[f"ratio_udf_to_onnxruntime_chunked_{t}t"], ">= 0.9"]
           for t in sorted({cores, 1}, reverse=True)]
        + [[f"UDF / LightGBM predict, {t} thread(s)", f[f"ratio_udf_to_lightgbm_{t}t"], ">= 1.3"]
           for t in sorted({cores, 1}, reverse=True)]
        + ([[f"UDF over {SPLIT_ROW_GROUP_ROWS:,}-row row groups / raw onnxruntime, {cores} "
             "thread(s)", f[f"ratio_udf_small_row_groups_to_onnxruntime_{cores}t"], ""]]
           if split else []),
        ["throughput ratio", "measured", "target"],
    ))
    print()
    total = sum(breakdown.values())
    print(table(
        [[step, seconds, f"{seconds / total:.0%}"] for step, seconds in breakdown.items()],
        ["a UDF call, step by step (one thread, all batches)", "seconds", "share"],
    ))
    print()
    print(table(
        [
            ["lead_scores mart (dbt, full refresh)", median([r.models["lead_scores"]
                                                             for r in mart_runs]),
             gib(f["mart_peak_rss_bytes"])],
            [f"TreeSHAP, ms per row ({sample:,} rows)", f["shap_ms_per_row"], ""],
            ["a process that only scores (UDF)", child.wall, gib(child.peak_rss)],
        ],
        ["full mart", "seconds", "peak RSS"],
    ))
    print(f"\nUDF vs lead_scores.conversion_probability: max |diff| {worst[0]:.2e} "
          f"over {worst[1]:,} leads")
    bench.write("scoring")


if __name__ == "__main__":
    sys.exit(main())
