"""Benchmark the peak memory of scoring: a process that scores every lead with the UDF, and the
lead_scores mart built by dbt (probabilities plus TreeSHAP reasons), each with DuckDB's default
memory_limit (80% of the machine's memory, which DuckDB fills before it spills) and with a set
limit.

    .venv/bin/python bench/bench_memory.py --scale L --memory-limit 1GB   # 1M leads
    .venv/bin/python bench/bench_memory.py --scale tiny                   # CI smoke

Peak memory is the child process's VmHWM (see benchlib.run_measured). Uses the workspace and
model of bench_scoring.py (run it first at the same scale). Results:
bench/results/memory_<scale>.json.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from benchlib import (
    BIN,
    NO_TESTS,
    S_ARTIFACTS,
    Bench,
    gib,
    load_average,
    median,
    say,
    summary,
    table,
)

SCORING = Path(__file__).resolve().parent / "bench_scoring.py"


def options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--memory-limit", default="1GB",
                        help="DuckDB memory_limit for the limited runs (default 1GB)")
    parser.add_argument("--mart-repeats", type=int, default=1,
                        help="lead_scores builds per setting (default 1: each costs minutes at L)")


def main() -> None:
    args, bench = Bench.start(__doc__, options)
    bench.use_env()
    version = bench.use_model(S_ARTIFACTS if bench.scale.name == "L" else None)
    bench.ensure_features()
    say(f"{bench.scale.leads:,} leads, model {version}; load {load_average():.2f}")
    limits = {"default": "", "limited": args.memory_limit}
    score_only: dict[str, list] = {}
    for _ in range(bench.repeats):
        for name, limit in limits.items():
            run = bench.run(str(BIN / "python"), str(SCORING), "--child-score",
                            str(bench.warehouse), str(bench.artifacts), version,
                            *([limit] if limit else []), label=f"score only ({name})")
            score_only.setdefault(name, []).append(run)
            say(f"score only, {name} memory_limit: {run.wall:.1f}s, peak {gib(run.peak_rss)}")
    marts: dict[str, list] = {}
    for name, limit in limits.items():
        if limit:
            bench.limit_memory(limit)
        for _ in range(args.mart_repeats):
            run = bench.dbt("build", "--select", "reason_templates", "lead_scores",
                            "--full-refresh", *NO_TESTS)
            marts.setdefault(name, []).append(run)
            say(f"lead_scores mart, {name} memory_limit: {run.models['lead_scores']:.1f}s, "
                f"peak {gib(run.peak_rss)}")
    bench.figures.update(
        model_version=version,
        memory_limit=args.memory_limit,
        score_only_seconds={k: summary([r.wall for r in v]) for k, v in score_only.items()},
        score_only_peak_rss_bytes={k: max(r.peak_rss for r in v) for k, v in score_only.items()},
        mart_seconds={k: summary([r.models["lead_scores"] for r in v]) for k, v in marts.items()},
        mart_peak_rss_bytes={k: max(r.peak_rss for r in v) for k, v in marts.items()},
    )
    f = bench.figures
    print()
    print(table(
        [[f"score every lead (UDF), {name}", median([r.wall for r in score_only[name]]),
          gib(f["score_only_peak_rss_bytes"][name])] for name in limits]
        + [[f"lead_scores mart (dbt), {name}",
            median([r.models["lead_scores"] for r in marts[name]]),
            gib(f["mart_peak_rss_bytes"][name])] for name in limits],
        [f"process (memory_limit: default or {args.memory_limit})", "seconds", "peak RSS"],
    ))
    bench.write("memory")


if __name__ == "__main__":
    main()
