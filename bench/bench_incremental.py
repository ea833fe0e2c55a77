"""Benchmark incremental builds: after 1% of the leads receive new events, an incremental run of
staging -> lead_scores against a full rebuild of the same models, side by side.

    .venv/bin/python bench/bench_incremental.py --scale S     # 100k leads, the S model
    .venv/bin/python bench/bench_incremental.py --scale L     # 1M leads, the S model
    .venv/bin/python bench/bench_incremental.py --scale tiny  # CI smoke

Works in <workdir>/incremental (its own copy of the raw data and its own warehouse, so the
other benchmarks' inputs stay as generated). Each repeat: a full rebuild (`dbt build --select
+lead_scores --full-refresh`), then new events for a fresh 1% of the leads (three each, the day
before as_of, appended to events.parquet), then the incremental run (`dbt build --select
+lead_scores`), then the same command again with nothing changed. as_of stays fixed, as
incremental runs require. Results: bench/results/incremental_<scale>.json.
"""

from __future__ import annotations

import argparse
import os
import shutil
from pathlib import Path

import duckdb

from benchlib import (
    AS_OF,
    NO_TESTS,
    S_ARTIFACTS,
    Bench,
    load_average,
    median,
    say,
    summary,
    table,
)

BUILD = ("build", "--select", "+lead_scores", *NO_TESTS)
# the models an incremental run rebuilds only for changed leads; the rest are full rebuilds
INCREMENTAL_MODELS = (
    "base_raw__events", "int_lead_events_sessionized", "lead_features", "lead_scores"
)


def options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--changed", type=float, default=0.01,
                        help="share of leads that receive new events (default 0.01)")
    parser.add_argument("--model-from", type=Path, default=None,
                        help="artifacts folder whose champion to use (default for L: S's)")


def workspace(parent: Bench) -> Bench:
    """A sub-workspace with its own warehouse and a private copy of the raw events."""
    bench = Bench(parent.scale, parent.root / "incremental", parent.repeats, parent.results_dir)
    bench.raw.mkdir(parents=True, exist_ok=True)
    for name in ("leads.parquet", "conversions.parquet", "events.parquet"):
        shutil.copy2(parent.raw / name, bench.raw / name)
    shutil.copy2(parent.raw / "generated.json", bench.raw / "generated.json")
    return bench


def add_events(bench: Bench, batch: int, share: float) -> int:
    """Three new events for each of a fresh share of the leads; returns how many leads."""
    events = bench.raw / "events.parquet"
    new = bench.raw / ".events.parquet.new"
    con = duckdb.connect()
    try:
        con.execute(f"""
            create table chosen as
            select lead_id from read_parquet('{bench.raw / 'leads.parquet'}')
            where created_at < timestamp '{AS_OF}' - interval 30 day
            order by hash(lead_id || '-batch-{batch}')
            limit (select cast(ceil(count(*) * {share}) as bigint)
                   from read_parquet('{bench.raw / 'leads.parquet'}'))
        """)
        con.execute(f"""
            copy (
                select * from read_parquet('{events}')
                union all by name
                select
                    'INC{batch}-' || lead_id || '-' || k as event_id,
                    lead_id,
                    timestamp '{AS_OF}' - interval 1 day + k * interval 3 hour as occurred_at,
                    ['web', 'email', 'form'][k + 1] as channel,
                    ['page_view', 'email_open', 'form_submit'][k + 1] as event_type,
                    ['pricing', null, 'demo'][k + 1] as page_category,
                    null as campaign,
                    null::double as value,
                from chosen, range(3) as steps(k)
            ) to '{new}' (format parquet)
        """)
        n = con.execute("select count(*) from chosen").fetchone()[0]
    finally:
        con.close()
    os.replace(new, events)
    return n


def rescored(bench: Bench) -> int:
    """Leads lead_scores scored in the newest run (the others keep an older scored_at)."""
    return bench.sql(
        "select count(*) from lead_scores "
        "where scored_at = (select max(scored_at) from lead_scores)"
    )[0][0]


def main() -> None:
    args, parent = Bench.start(__doc__, options, data=True)
    default_source = S_ARTIFACTS if parent.scale.name == "L" else None
    source = args.model_from or default_source
    if source is None:
        parent.use_env()
        parent.use_model(None)
        source = parent.artifacts
    bench = workspace(parent)
    bench.use_env()
    version = bench.use_model(source)
    say(f"{bench.scale.leads:,} leads, model {version}")

    fulls, incrementals, noops, changed, rescores, loads = [], [], [], [], [], []
    for repeat in range(bench.repeats):
        loads.append(load_average())
        fulls.append(bench.dbt(*BUILD, "--full-refresh"))
        changed.append(add_events(bench, repeat, args.changed))
        incrementals.append(bench.dbt(*BUILD))
        rescores.append(rescored(bench))
        noops.append(bench.dbt(*BUILD))
        say(f"repeat {repeat + 1}: full {fulls[-1].elapsed:.1f}s, {changed[-1]:,} leads changed: "
            f"incremental {incrementals[-1].elapsed:.1f}s ({rescores[-1]:,} rescored), "
            f"nothing changed {noops[-1].elapsed:.1f}s")

    def models(runs: list) -> dict[str, float]:
        return {name: median([r.models[name] for r in runs]) for name in runs[0].models}

    full_m, incr_m, noop_m = models(fulls), models(incrementals), models(noops)
    full_s = median([r.elapsed for r in fulls])
    incr_s = median([r.elapsed for r in incrementals])
    full_inc = sum(full_m[m] for m in INCREMENTAL_MODELS)
    incr_inc = sum(incr_m[m] for m in INCREMENTAL_MODELS)
    f = bench.figures
    f.update(
        changed_share=args.changed,
        changed_leads=changed,
        rescored_leads=rescores,
        load_average_1m=loads,
        full_seconds=summary([r.elapsed for r in fulls]),
        incremental_seconds=summary([r.elapsed for r in incrementals]),
        unchanged_seconds=summary([r.elapsed for r in noops]),
        full_wall_seconds=summary([r.wall for r in fulls]),
        incremental_wall_seconds=summary([r.wall for r in incrementals]),
        full_model_seconds_median=full_m,
        incremental_model_seconds_median=incr_m,
        unchanged_model_seconds_median=noop_m,
        full_peak_rss_bytes=max(r.peak_rss for r in fulls),
        incremental_peak_rss_bytes=max(r.peak_rss for r in incrementals),
        ratio_incremental_to_full=incr_s / full_s,
        ratio_incremental_models_to_full=incr_inc / full_inc,
        ratio_incremental_to_full_wall=(
            median([r.wall for r in incrementals]) / median([r.wall for r in fulls])
        ),
    )
    print()
    print(table(
        [[name, full_m[name], incr_m[name], noop_m[name]]
         for name in sorted(full_m, key=lambda n: -full_m[n])],
        ["model (median seconds)", "full rebuild", f"{args.changed:.0%} changed", "unchanged"],
    ))
    print()
    print(table(
        [
            ["dbt run (all models)", full_s, incr_s, f["ratio_incremental_to_full"]],
            ["the incremental models (" + ", ".join(INCREMENTAL_MODELS) + ")", full_inc,
             incr_inc, f["ratio_incremental_models_to_full"]],
        ],
        ["", "full (s)", "incremental (s)", "incremental / full"],
    ))
    bench.write("incremental")


if __name__ == "__main__":
    main()
