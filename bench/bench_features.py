"""Benchmark the feature build: dbt staging -> lead_features against a one-pass group-by floor
and a pandas groupby/apply implementation of a subset of the same features, side by side.

    .venv/bin/python bench/bench_features.py --scale S      # 100k leads, ~5M events
    .venv/bin/python bench/bench_features.py --scale L      # 1M leads, ~50M events
    .venv/bin/python bench/bench_features.py --scale tiny   # CI smoke: 2k leads, one repeat

Each repeat runs, back to back: a full rebuild of +lead_features (dbt --full-refresh; per-model
times from run_results.json), the floor (one DuckDB group by lead_id over the same events
Parquet, materialised like a model) and the pandas version (from the staged events, the way
tutorials write it). Results: bench/results/features_<scale>.json.
"""

from __future__ import annotations

import argparse
import time

import duckdb
import numpy as np
import pandas as pd

from benchlib import (
    AS_OF,
    NO_TESTS,
    Bench,
    load_average,
    median,
    say,
    summary,
    table,
    timed,
)

CHANNELS = ("web", "email", "form", "content", "webinar", "social", "sales")
WINDOWS = (7, 30, 90)
SESSION_GAP = pd.Timedelta(minutes=30)
# the pandas subset, named as in lead_features
PANDAS_COLUMNS = [
    *[f"{c}_actions_{d}d" for d in WINDOWS for c in CHANNELS],
    "days_since_last_activity",
    "sessions_total",
    "email_open_rate_total",
]
# groupby/apply costs the same per lead: on a sample of leads, the time scales up linearly
PANDAS_SAMPLE = {"tiny": 0.25, "S": 1.0, "L": 0.1}
FEATURE_MODELS = ("int_lead_events_sessionized", "lead_features")


def options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--pandas-sample", type=float, default=None,
                        help="share of leads pandas computes (default: 1, 0.1 for L)")


# --------------------------------------------------------------------------- pandas version
def one_lead(events: pd.DataFrame) -> pd.Series:
    """The features of one lead from its events, as a tutorial computes them."""
    row: dict[str, float] = {}
    actions = events[events["is_activity"]]
    for days in WINDOWS:
        recent = actions[actions["age_days"] <= days]
        for channel in CHANNELS:
            row[f"{channel}_actions_{days}d"] = int((recent["channel"] == channel).sum())
    row["days_since_last_activity"] = actions["age_days"].min() if len(actions) else np.nan
    gaps = actions["occurred_at"].diff()
    row["sessions_total"] = int((gaps.isna() | (gaps > SESSION_GAP)).sum()) if len(actions) else 0
    sent = int((events["event_type"] == "email_sent").sum())
    opened = int((events["event_type"] == "email_open").sum())
    row["email_open_rate_total"] = opened / sent if sent else np.nan
    return pd.Series(row)


def pandas_features(events: pd.DataFrame, as_of: pd.Timestamp) -> pd.DataFrame:
    events = events[events["occurred_at"] < as_of].copy()
    events["age_days"] = (as_of - events["occurred_at"]).dt.total_seconds() / 86400
    # an outbound send is not an action of the lead (seeds/event_taxonomy.csv)
    events["is_activity"] = events["event_type"] != "email_sent"
    events = events.sort_values(["lead_id", "occurred_at", "event_id"])
    return events.groupby("lead_id").apply(one_lead, include_groups=False)


def time_pandas(events: pd.DataFrame) -> tuple[float, pd.DataFrame]:
    start = time.perf_counter()
    computed = pandas_features(events, pd.Timestamp(AS_OF))
    return time.perf_counter() - start, computed


def staged_events(bench: Bench, share: float) -> pd.DataFrame:
    """The staged (typed, de-duplicated) events of a share of the leads, as pandas reads them."""
    where = "" if share >= 1 else f"where hash(lead_id) % 1000 < {int(share * 1000)}"
    return bench.df(
        f"select event_id, lead_id, occurred_at, channel, event_type from stg_raw__events {where}"
    )


def pandas_agrees(bench: Bench, computed: pd.DataFrame) -> int:
    """Leads whose pandas features differ from lead_features (0: the same work was compared)."""
    expected = bench.df(f"select lead_id, {', '.join(PANDAS_COLUMNS)} from lead_features")
    both = computed.merge(
        expected.set_index("lead_id"), left_index=True, right_index=True, suffixes=("", "_sql")
    )
    bad = np.zeros(len(both), dtype=bool)
    for column in PANDAS_COLUMNS:
        a, b = both[column].astype(float), both[f"{column}_sql"].astype(float)
        bad |= ~(np.isclose(a, b, rtol=1e-9, equal_nan=True))
    return int(bad.sum()) + (len(computed) - len(both))


# --------------------------------------------------------------------------- the floor
def floor_seconds(bench: Bench) -> float:
    """One group-by pass over the raw events, written to a table like a model would be."""
    con = duckdb.connect()
    try:
        events = bench.raw / "events.parquet"
        return timed(lambda: con.execute(
            "create or replace table floor as "
            "select lead_id, count(*) as events, max(occurred_at) as last_event_at, "
            f"count(distinct channel) as channels from read_parquet('{events}') group by lead_id"
        ))
    finally:
        con.close()


def main() -> None:
    args, bench = Bench.start(__doc__, options, data=True)
    share = args.pandas_sample or PANDAS_SAMPLE[bench.scale.name]
    events_total = duckdb.connect().execute(
        f"select count(*) from read_parquet('{bench.raw / 'events.parquet'}')"
    ).fetchone()[0]
    say(f"{bench.scale.leads:,} leads, {events_total:,} raw events; load {load_average():.2f}")

    builds, floors, pandas_times, loads = [], [], [], []
    events_in_sample, pandas_mismatches = 0, 0
    for repeat in range(bench.repeats):
        loads.append(load_average())
        build = bench.dbt("build", "--select", "+lead_features", "--full-refresh", *NO_TESTS)
        builds.append(build)
        floors.append(floor_seconds(bench))
        events = staged_events(bench, share)
        events_in_sample = len(events)
        seconds, computed = time_pandas(events)
        pandas_times.append(seconds / share)
        pandas_mismatches = pandas_agrees(bench, computed)
        say(f"repeat {repeat + 1}: dbt {build.elapsed:.1f}s, lead_features "
            f"{build.models['lead_features']:.1f}s, floor {floors[-1]:.2f}s, "
            f"pandas {pandas_times[-1]:.1f}s" + (f" (x{1 / share:.0f})" if share < 1 else ""))

    pipeline = [sum(b.models.values()) for b in builds]
    features = [sum(b.models[m] for m in FEATURE_MODELS) for b in builds]
    lead_features = [b.models["lead_features"] for b in builds]
    models = {name: median([b.models[name] for b in builds]) for name in builds[0].models}
    f = bench.figures
    f.update(
        events=events_total,
        load_average_1m=loads,
        model_seconds_median=models,
        pipeline_seconds=summary(pipeline),
        sessionized_plus_lead_features_seconds=summary(features),
        lead_features_seconds=summary(lead_features),
        dbt_elapsed_seconds=summary([b.elapsed for b in builds]),
        dbt_wall_seconds=summary([b.wall for b in builds]),
        dbt_peak_rss_bytes=max(b.peak_rss for b in builds),
        floor_seconds=summary(floors),
        pandas_seconds=summary(pandas_times),
        pandas_sample_share=share,
        pandas_events_in_sample=events_in_sample,
        pandas_features=PANDAS_COLUMNS,
        pandas_leads_differing_from_lead_features=pandas_mismatches,
        events_per_second_pipeline=events_total / median(pipeline),
        events_per_second_lead_features=events_total / median(lead_features),
        # ratios of medians; each repeat measured all sides back to back
        ratio_pipeline_to_floor=median(pipeline) / median(floors),
        ratio_sessionized_plus_features_to_floor=median(features) / median(floors),
        ratio_lead_features_to_floor=median(lead_features) / median(floors),
        ratio_pandas_to_sessionized_plus_features=median(pandas_times) / median(features),
        ratio_pandas_to_pipeline=median(pandas_times) / median(pipeline),
    )
    print()
    print(table(
        [[name, seconds] for name, seconds in sorted(models.items(), key=lambda kv: -kv[1])],
        ["dbt model (median of runs)", "seconds"],
    ))
    print()
    print(table(
        [
            ["staging -> lead_features (sum of models)", median(pipeline),
             f["ratio_pipeline_to_floor"]],
            ["int_lead_events_sessionized + lead_features", median(features),
             f["ratio_sessionized_plus_features_to_floor"]],
            ["lead_features alone", median(lead_features), f["ratio_lead_features_to_floor"]],
            ["floor: one group by lead_id", median(floors), 1.0],
            [f"pandas groupby/apply, {len(PANDAS_COLUMNS)} features"
             + (f" ({share:.0%} sample, scaled)" if share < 1 else ""), median(pandas_times),
             median(pandas_times) / median(floors)],
        ],
        ["step", "seconds (median)", "x floor"],
    ))
    print(f"\nevents/s (staging -> lead_features): {f['events_per_second_pipeline']:,.0f}; "
          f"pandas / (sessionized + lead_features): "
          f"{f['ratio_pandas_to_sessionized_plus_features']:.1f}x; "
          f"leads where pandas differs from lead_features: {pandas_mismatches}")
    bench.write("features")


if __name__ == "__main__":
    main()
