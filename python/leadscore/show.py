"""``leadscore show``: the highest-scoring open leads with their reasons, the tiers of the open
leads, and the champion model's test metrics (overall, on new and on established leads)."""

from __future__ import annotations

import argparse
import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from leadscore.config import warehouse_path
from leadscore.report.data import (
    CONTEXT_COLUMNS,
    open_scores,
    test_fold_rows,
    tier_summary,
    top_open_leads,
)

__all__ = ["format_table", "main", "model_line"]

BASELINES = {
    "rule_based_auc": "rule-based",
    "lead_age_auc": "lead age",
    "logistic_regression_auc": "logistic",
}


def _published(default: Path) -> Path:
    folder = Path(os.environ.get("LEADSCORE_PUBLISH_DIR", "published"))
    candidate = folder / "leadscore.duckdb"
    return candidate if candidate.exists() else default


def format_table(rows: Sequence[Sequence[Any]], header: Sequence[str]) -> str:
    """Rows as aligned plain-text columns under a header (numbers right-aligned)."""
    text = [[str(h) for h in header]] + [["–" if v is None else str(v) for v in r] for r in rows]
    numeric = [
        all(isinstance(r[i], int | float) for r in rows if r[i] is not None)
        for i in range(len(header))
    ]
    widths = [max(len(line[i]) for line in text) for i in range(len(header))]
    out = []
    for k, line in enumerate(text):
        cells = [
            cell.rjust(w) if numeric[i] and k else cell.ljust(w)
            for i, (cell, w) in enumerate(zip(line, widths, strict=True))
        ]
        out.append("  " + "  ".join(cells).rstrip())
        if k == 0:
            out.append("  " + "  ".join("-" * w for w in widths))
    return "\n".join(out)


def _print_leads(leads: pd.DataFrame) -> None:
    context = [c for c in CONTEXT_COLUMNS if c in leads.columns]
    header = ["lead", "score", "tier", "probability", *(c.replace("_", " ") for c in context)]
    rows = [
        [
            r["lead_id"],
            int(r["score"]),
            r["tier"],
            f"{float(r['conversion_probability']):.1%}",
            *(None if pd.isna(r[c]) else r[c] for c in context),
        ]
        for _, r in leads.iterrows()
    ]
    print(format_table(rows, header))
    print()
    for _, r in leads.iterrows():
        reasons = [s for s in str(r["top_reasons"] or "").split("; ") if s]
        print(f"  {r['lead_id']} (score {int(r['score'])}, tier {r['tier']}):")
        for text in reasons or ["no reasons recorded"]:
            print(f"    - {text}")


def _print_tiers(scores: pd.DataFrame, converted: int) -> None:
    print(f"Tiers of the open leads ({converted:,} converted leads left out):")
    summary = tier_summary(scores)
    rows = [
        [
            r["tier"],
            int(r["leads"]),
            f"{r['share']:.1%}",
            f"{r['mean_probability']:.1%}",
            round(float(r["expected_conversions"])),
        ]
        for _, r in summary.iterrows()
    ]
    print(format_table(rows, ["tier", "leads", "share", "mean probability", "expected"]))


def model_line(registry_row: dict[str, Any]) -> list[str]:
    """The champion's test metrics in words: AUC overall and, when measured, on new and on
    established leads, each beside its baselines."""
    metrics = registry_row.get("metrics")
    metrics = json.loads(metrics) if isinstance(metrics, str) else metrics or {}
    if not metrics.get("test") and registry_row.get("test_auc") is not None:
        metrics = {"test": {"auc": registry_row["test_auc"]},
                   "rule_based": {"auc": registry_row.get("rule_based_auc")}}
    lines = []
    for row in test_fold_rows(metrics):
        parts = [f"AUC {row.auc:.3f}" if row.auc is not None else "AUC not measured"]
        if row.n is not None:
            parts.append(f"{row.n:,} test rows")
        baselines = ", ".join(
            f"{name} {row.baselines[key]:.3f}" for key, name in BASELINES.items()
            if key in row.baselines
        )
        if baselines:
            parts.append(f"baselines: {baselines}")
        lines.append(f"  {row.segment}: " + "; ".join(parts))
    if registry_row.get("backtest_auc_mean") is not None:
        lines.append(
            f"  backtest on earlier periods: AUC {registry_row['backtest_auc_mean']:.3f}"
            f" ± {registry_row.get('backtest_auc_std') or 0:.3f}"
        )
    if registry_row.get("worst_calibration_gap") is not None:
        lines.append(
            "  worst calibration bin: observed rate "
            f"{100 * registry_row['worst_calibration_gap']:.1f} percentage points off the "
            "predicted one"
        )
    level = metrics.get("test_calibration_in_the_large")
    if level:
        lines.append(
            f"  test period as a whole: {level['observed_rate']:.1%} converted where "
            f"{level['mean_predicted']:.1%} was predicted"
        )
    lines += [f"  training said: {text}" for text in metrics.get("warnings") or []]
    return lines


def _champion(warehouse: Path) -> dict[str, Any] | None:
    if not warehouse.exists():
        return None
    try:
        con = duckdb.connect(str(warehouse), read_only=True)
    except duckdb.IOException:
        return None
    try:
        cursor = con.execute(
            "select * from leadscore_models.model_registry where is_champion limit 1"
        )
        names = [d[0] for d in cursor.description]
        row = cursor.fetchall()
        return dict(zip(names, row[0], strict=True)) if row else None
    except duckdb.CatalogException:
        return None
    finally:
        con.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="leadscore show",
        description="Print the highest-scoring open leads with their reasons, the tiers of the "
        "open leads, and the champion model's test metrics.",
    )
    parser.add_argument(
        "--database",
        type=Path,
        default=None,
        help="DuckDB file with lead_scores (default: the published mart, else the warehouse)",
    )
    parser.add_argument("--top", type=int, default=10, help="how many leads to list (10)")
    args = parser.parse_args(argv)
    path = args.database or _published(warehouse_path())
    if not path.exists():
        print(f"No scores yet: {path} does not exist. Run: make demo")
        return 2
    con = duckdb.connect(str(path), read_only=True)
    try:
        leads = top_open_leads(con, args.top)
        scores = open_scores(con)
        converted = con.execute("select count(*) from lead_scores where is_converted").fetchall()
        versions = [
            r[0] for r in con.execute("select distinct model_version from lead_scores").fetchall()
        ]
    finally:
        con.close()
    champion = _champion(warehouse_path())
    if champion and versions and champion["model_version"] not in versions:
        print(
            f"warning: these scores are from model {', '.join(map(str, versions))}, but the "
            f"champion is {champion['model_version']}. Rebuild to rescore: leadscore build"
        )
    print(f"Top {len(leads)} open leads ({path}):")
    _print_leads(leads)
    print()
    _print_tiers(scores, int(converted[0][0]))
    if champion:
        print()
        print(f"Champion model {champion['model_version']}, test fold:")
        for line in model_line(champion):
            print(line)
    return 0
