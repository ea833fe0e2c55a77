"""The report's HTML page: one section per SECTIONS entry, rendered from a ReportData, and the
``leadscore report`` command that loads the data and writes the page."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pandas as pd

from leadscore.config import artifacts_dir, dbt_vars, warehouse_path
from leadscore.report.charts import (
    _e,
    _fmt,
    bars_svg,
    calibration_svg,
    gain_svg,
    psi_bars_svg,
    stacked_histogram_svg,
)
from leadscore.report.data import (
    DEFAULT_OUT,
    MONITORING_HINT,
    ReportData,
    ReportError,
    _latest,
    load_report,
)

__all__ = ["SECTIONS", "main", "render_report"]

SECTIONS = {
    "overview": "Model",
    "calibration": "Calibration",
    "lift": "Lift and gain",
    "score-distribution": "Score distribution by tier",
    "drift": "Drift per feature (PSI)",
    "segments": "Segments",
    "backtest": "Backtest: leads scored N days ago",
    "champion-challenger": "Champion and challenger",
    "top-leads": "Top leads and why",
}


def _table(frame: pd.DataFrame, columns: dict[str, str], digits: int = 3) -> str:
    """An HTML table of the given columns (name -> header) with tidy numbers."""
    head = "".join(f"<th>{_e(title)}</th>" for title in columns.values())
    rows = []
    for record in frame.to_dict("records"):
        cells = "".join(
            f"<td>{_e(_fmt(_plain(record.get(name)), digits))}</td>" for name in columns
        )
        flagged = ' class="flagged"' if record.get("is_flagged") is True else ""
        rows.append(f"<tr{flagged}>{cells}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def _plain(value: Any) -> Any:
    """numpy / pandas scalars as plain Python values; NaT and NA as None."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if hasattr(value, "item") and not isinstance(value, str | bytes):
        try:
            return value.item()
        except (ValueError, AttributeError):
            return value
    if isinstance(value, pd.Timestamp):
        return str(value)
    return value


def _note(text: str) -> str:
    return f'<p class="note">{_e(text)}</p>'


def _section(key: str, body: str) -> str:
    return f'<section id="{key}"><h2>{_e(SECTIONS[key])}</h2>{body}</section>'


def _label_window(data: ReportData) -> int:
    return int(data.metadata.get("label_window_days") or dbt_vars().get("label_window_days", 90))


def _no_matured(data: ReportData) -> str:
    if data.missing and "model_evaluation" in data.missing:
        return _note(f"Not built yet. {MONITORING_HINT}")
    return _note(
        "No matured outcomes yet: a snapshot in lead_score_history is judged once its label "
        f"window ({_label_window(data)} days) has passed. Keep building on a schedule; the "
        "first snapshots appear here then."
    )


def _overview(data: ReportData) -> str:
    test = (data.metadata.get("metrics") or {}).get("test") or {}
    rows = {
        "model version": data.model_version,
        "scores as of": data.as_of,
        "leads scored": f"{len(data.scores):,}",
        "calibration": (data.metadata.get("calibration") or {}).get("method", "–"),
        "test AUC": _fmt(test.get("auc")),
        "test Brier": _fmt(test.get("brier"), 4),
        "test ECE": _fmt(test.get("ece"), 4),
        "test top-decile lift": _fmt(test.get("top_decile_lift"), 2),
        "label window": f"{_label_window(data)} days",
    }
    items = "".join(f"<tr><th>{_e(k)}</th><td>{_e(v)}</td></tr>" for k, v in rows.items())
    body = f'<table class="card">{items}</table>'
    if not data.evaluation.empty:
        body += "<h3>On matured outcomes, by snapshot</h3>" + _table(
            data.evaluation,
            {
                "model_version": "model",
                "as_of": "snapshot",
                "was_served": "served",
                "n": "leads",
                "positives": "converted",
                "auc": "AUC",
                "test_auc": "test AUC",
                "brier": "Brier",
                "ece": "ECE",
                "top_decile_lift": "top-decile lift",
            },
        )
    if data.missing:
        body += _note(f"Not built yet: {', '.join(data.missing)}. {MONITORING_HINT}")
    return _section("overview", body)


def _calibration(data: ReportData) -> str:
    series = []
    test_bins = (data.metadata.get("metrics") or {}).get("test_reliability") or []
    if test_bins:
        series.append(
            (
                "test fold at training",
                [(b["mean_predicted"], b["observed_rate"], int(b["n"])) for b in test_bins],
            )
        )
    matured = _latest(data.reliability, data.model_version)
    if not matured.empty:
        series.append(
            (
                f"matured outcomes, snapshot {str(matured['as_of'].iloc[0])[:10]}",
                [
                    (r.mean_predicted, r.observed_rate, int(r.n))
                    for r in matured.itertuples(index=False)
                ],
            )
        )
    if not series:
        return _section("calibration", _note("No reliability bins in the model's metadata."))
    body = (
        '<div class="chart">'
        + calibration_svg(series)
        + "</div>"
        + _note(
            "Dots near the dashed diagonal mean the probabilities can be taken at face value: "
            "of leads scored 0.30, about 30% converted. Dot size follows the number of leads."
        )
    )
    if matured.empty:
        body += _no_matured(data)
    return _section("calibration", body)


def _lift(data: ReportData) -> str:
    latest = _latest(data.lift, data.model_version)
    if latest.empty:
        return _section("lift", _no_matured(data))
    latest = latest.sort_values("decile")
    charts = bars_svg(
        [str(d) for d in latest["decile"]],
        [float(v) for v in latest["lift"].fillna(0)],
        "decile (1 = highest scores)",
        "lift over the average rate",
        reference=1.0,
    ) + gain_svg(
        [
            (float(x), float(y))
            for x, y in zip(
                latest["cumulative_share_of_leads"],
                latest["cumulative_gain"].fillna(0),
                strict=True,
            )
        ]
    )
    snapshot = str(latest["as_of"].iloc[0])[:10]
    return _section(
        "lift",
        f'<div class="chart">{charts}</div>'
        + _note(
            f"Snapshot {snapshot}, outcomes matured: the leads ranked by probability and cut "
            "into tenths. Lift 3 in decile 1 means its leads converted three times as often as "
            "the average lead."
        ),
    )


def _score_distribution(data: ReportData) -> str:
    thresholds = data.metadata.get("tier_thresholds") or dbt_vars().get("tier_thresholds") or {}
    tiers = sorted(set(data.scores["tier"].dropna()) | set(thresholds))
    summary = (
        data.scores.groupby("tier")
        .agg(
            leads=("score", "size"),
            mean_probability=("conversion_probability", "mean"),
            expected_conversions=("conversion_probability", "sum"),
        )
        .reset_index()
    )
    summary["share"] = summary["leads"] / summary["leads"].sum()
    summary["threshold"] = summary["tier"].map(lambda t: thresholds.get(t))
    return _section(
        "score-distribution",
        '<div class="chart">'
        + stacked_histogram_svg(data.scores, tiers)
        + "</div>"
        + _table(
            summary,
            {
                "tier": "tier",
                "threshold": "probability at or above",
                "leads": "leads",
                "share": "share",
                "mean_probability": "mean probability",
                "expected_conversions": "expected conversions",
            },
            digits=3,
        ),
    )


def _drift(data: ReportData) -> str:
    if data.drift.empty:
        hint = MONITORING_HINT if "feature_drift" in data.missing else "No drift rows."
        return _section("drift", _note(hint))
    rows = data.drift.sort_values("psi", ascending=False).head(30)
    chart = psi_bars_svg(
        [("score (calibrated)" if f == "__score__" else f) for f in rows["feature"]],
        [float(v) for v in rows["psi"]],
        list(rows["drift_status"]),
        data.psi_warn,
        data.psi_error,
    )
    inputs = data.drift[data.drift["feature"] != "__score__"]
    shifted = int((inputs["psi"] > data.psi_warn).sum())
    score = data.drift.loc[data.drift["feature"] == "__score__", "psi"]
    score_text = f"The score's PSI is {float(score.iloc[0]):.3f}. " if len(score) else ""
    return _section(
        "drift",
        f'<div class="chart">{chart}</div>'
        + _note(
            f"{score_text}{shifted} of {len(inputs)} model inputs moved more than PSI "
            f"{data.psi_warn:g} from the training distribution; the 30 largest are shown. "
            f"Above {data.psi_error:g} the population has changed enough to consider retraining."
        ),
    )


def _segments(data: ReportData) -> str:
    latest = _latest(data.segments, data.model_version)
    if latest.empty:
        return _section("segments", _no_matured(data))
    latest = latest.sort_values(["is_flagged", "segment_name", "n"], ascending=[False, True, False])
    flagged = int(latest["is_flagged"].sum())
    return _section(
        "segments",
        _note(
            f"Snapshot {str(latest['as_of'].iloc[0])[:10]}: {flagged} segment(s) flagged as "
            "ranked or calibrated materially worse than the whole population."
        )
        + _table(
            latest,
            {
                "segment_name": "segment",
                "segment_value": "value",
                "n": "leads",
                "positives": "converted",
                "auc": "AUC",
                "auc_gap": "AUC below overall",
                "ece": "ECE",
                "ece_gap": "ECE above overall",
                "is_flagged": "flagged",
                "flag_reason": "why",
            },
        ),
    )


def _backtest(data: ReportData) -> str:
    if data.backtest.empty:
        hint = MONITORING_HINT if "score_backtest" in data.missing else None
        return _section(
            "backtest",
            _note(
                hint
                or "No earlier snapshot yet: each build adds one to lead_score_history, and "
                "this table follows what became of its leads."
            ),
        )
    rows = data.backtest.sort_values(
        ["as_of", "model_version", "tier"], ascending=[False, True, True]
    )
    return _section(
        "backtest",
        _table(
            rows,
            {
                "as_of": "snapshot",
                "days_since_snapshot": "days ago",
                "model_version": "model",
                "tier": "tier",
                "leads": "leads",
                "expected_conversions": "expected",
                "actual_conversions": "converted",
                "conversion_rate": "rate",
                "is_window_complete": "window complete",
            },
            digits=2,
        ),
    )


def _comparison(data: ReportData) -> str:
    if data.comparison.empty:
        return _section(
            "champion-challenger",
            _note(
                "No challenger: train another version with the same features "
                "(python python/train.py --no-promote) or set var challenger_version."
            ),
        )
    return _section(
        "champion-challenger",
        _table(
            data.comparison,
            {
                "champion_version": "champion",
                "challenger_version": "challenger",
                "basis": "basis",
                "as_of": "snapshot",
                "n": "leads",
                "champion_auc": "champion AUC",
                "challenger_auc": "challenger AUC",
                "champion_brier": "champion Brier",
                "challenger_brier": "challenger Brier",
                "rank_correlation": "rank correlation",
                "tier_agreement": "same tier",
            },
        ),
    )


def _reasons(top_factors: Any) -> tuple[str, str]:
    """The reasons pushing a lead up and those pushing it down, from top_factors JSON."""
    try:
        factors = json.loads(top_factors) if isinstance(top_factors, str) else top_factors or []
    except json.JSONDecodeError:
        return "", ""
    up = [f["reason"] for f in factors if f.get("contribution", 0) > 0]
    down = [f["reason"] for f in factors if f.get("contribution", 0) < 0]
    return "; ".join(up), "; ".join(down)


def _top_leads(data: ReportData) -> str:
    rows = data.top_leads.copy()
    pairs = [_reasons(v) for v in rows["top_factors"]]
    rows["up"] = [p[0] for p in pairs]
    rows["down"] = [p[1] for p in pairs]
    return _section(
        "top-leads",
        _table(
            rows,
            {
                "lead_id": "lead",
                "score": "score",
                "tier": "tier",
                "fit_score": "fit",
                "engagement_score": "engagement",
                "up": "pushes the score up",
                "down": "holds it back",
            },
        ),
    )


STYLE = """
body { font-family: -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; margin: 24px auto;
       max-width: 1120px; color: #111827; padding: 0 16px; }
h1 { font-size: 24px; margin-bottom: 4px; } h2 { font-size: 18px; margin-top: 32px;
     border-bottom: 1px solid #e5e7eb; padding-bottom: 4px; } h3 { font-size: 14px; }
nav a { margin-right: 12px; font-size: 13px; }
table { border-collapse: collapse; font-size: 12px; margin: 8px 0; }
th, td { border-bottom: 1px solid #e5e7eb; padding: 4px 8px; text-align: left;
         vertical-align: top; }
table.card th { width: 180px; color: #4b5563; font-weight: normal; }
tr.flagged td { background: #fdecea; }
.chart svg { margin-right: 16px; vertical-align: top; }
.note { color: #4b5563; font-size: 13px; max-width: 860px; }
"""


def render_report(data: ReportData, generated_at: datetime | None = None) -> str:
    """The whole page as one HTML string with inline CSS and SVG (no external resources)."""
    stamp = (generated_at or datetime.now(timezone.utc)).strftime("%Y-%m-%d %H:%M UTC")
    nav = "".join(f'<a href="#{k}">{_e(v)}</a>' for k, v in SECTIONS.items())
    sections = [
        _overview(data),
        _calibration(data),
        _lift(data),
        _score_distribution(data),
        _drift(data),
        _segments(data),
        _backtest(data),
        _comparison(data),
        _top_leads(data),
    ]
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f"<title>leadscore report {_e(data.as_of[:10])}</title><style>{STYLE}</style></head>"
        f"<body><h1>Lead scores: how they are doing</h1>"
        f'<p class="note">Model {_e(data.model_version)}, scores as of {_e(data.as_of)}; '
        f"written {stamp}.</p><nav>{nav}</nav>" + "".join(sections) + "</body></html>"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="leadscore report",
        description="Write a self-contained HTML report: calibration, lift, score distribution, "
        "drift, segments, backtest, champion/challenger and the top leads with reasons.",
    )
    parser.add_argument(
        "--warehouse",
        type=Path,
        default=None,
        help="DuckDB file (default: $LEADSCORE_DB or warehouse.duckdb)",
    )
    parser.add_argument(
        "--artifacts",
        type=Path,
        default=None,
        help="artifacts root (default: $LEADSCORE_ARTIFACTS or artifacts)",
    )
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"default: {DEFAULT_OUT}")
    parser.add_argument("--top", type=int, default=20, help="top leads to list (20)")
    args = parser.parse_args(argv)
    try:
        data = load_report(
            args.warehouse or warehouse_path(), args.artifacts or artifacts_dir(), args.top
        )
    except ReportError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    args.out.parent.mkdir(parents=True, exist_ok=True)
    tmp = args.out.with_name(f".{args.out.name}.tmp")
    tmp.write_text(render_report(data), encoding="utf-8")
    tmp.replace(args.out)  # a reader never sees half a page
    print(f"wrote {args.out}")
    return 0
