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

from leadscore.config import (
    add_path_option,
    artifacts_dir,
    dbt_vars,
    warehouse_path,
)
from leadscore.report.charts import (
    _e,
    _fmt,
    bars_svg,
    calibration_svg,
    gain_svg,
    grouped_bars_svg,
    hbars_svg,
    psi_bars_svg,
    stacked_bars_svg,
    tier_panels_svg,
)
from leadscore.report.data import (
    CONTEXT_COLUMNS,
    DEFAULT_OUT,
    MONITORING_HINT,
    ReportData,
    ReportError,
    _latest,
    load_report,
    test_fold_rows,
    tier_summary,
)

__all__ = ["SECTIONS", "main", "render_report"]

SECTIONS = {
    "overview": "Model",
    "calibration": "Calibration",
    "lift": "Lift and gain",
    "model-vs-rules": "Model and rule-based score",
    "key-factors": "Key factors",
    "score-distribution": "Open leads by tier",
    "actual-vs-expected": "Actual and expected conversions by tier",
    "trends": "Trends over builds",
    "drift": "Drift per feature (PSI)",
    "segments": "Segments",
    "backtest": "Backtest: leads scored N days ago",
    "data-quality": "Rejected input rows",
    "champion-challenger": "Champion and challenger",
    "top-leads": "Top open leads and why",
}
TEST_FOLD = "Test fold at training (no outcome has matured since)"
BASELINE_NAMES = {
    "rule_based_auc": "rule-based score",
    "lead_age_auc": "lead age alone",
    "logistic_regression_auc": "logistic regression",
}


def _cell(value: Any, kind: str | int) -> str:
    """One cell: kind 'pct' (a share as a percent), 'int' (a rounded count) or digits."""
    value = _plain(value)
    if isinstance(value, int | float) and not isinstance(value, bool) and value == value:
        if kind == "pct":
            return f"{value:.1%}"
        if kind == "int":
            return f"{round(value):,}"
    return _fmt(value, kind if isinstance(kind, int) else 3)


def _table(
    frame: pd.DataFrame,
    columns: dict[str, str],
    digits: int = 3,
    formats: dict[str, str | int] | None = None,
) -> str:
    """An HTML table of the given columns (name -> header) with tidy numbers; formats names a
    column's kind (see _cell)."""
    formats = formats or {}
    head = "".join(f"<th>{_e(title)}</th>" for title in columns.values())
    rows = []
    for record in frame.to_dict("records"):
        cells = "".join(
            f"<td>{_e(_cell(record.get(name), formats.get(name, digits)))}</td>"
            for name in columns
        )
        flagged = ' class="flagged"' if record.get("is_flagged") is True else ""
        rows.append(f"<tr{flagged}>{cells}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def _card_table(frame: pd.DataFrame, rows: dict[str, str], digits: int = 3) -> str:
    """A table with one row per field (name -> label) and one column per record: a few wide
    records (model versions, timestamps, many metrics) read better down than across."""
    body = "".join(
        f"<tr><th>{_e(label)}</th>"
        + "".join(f"<td>{_e(_cell(r.get(name), digits))}</td>" for r in frame.to_dict("records"))
        + "</tr>"
        for name, label in rows.items()
    )
    return f'<table class="card"><tbody>{body}</tbody></table>'


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


def _chart(svg: str, *notes: str) -> str:
    """A chart, and the notes that say how to read it."""
    return f'<div class="chart">{svg}</div>' + "".join(_note(n) for n in notes)


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


def _metrics(data: ReportData) -> dict[str, Any]:
    return data.metadata.get("metrics") or {}


def _test_fold_table(data: ReportData) -> str:
    """The test fold's AUC overall, on new and on established leads, beside its baselines."""
    rows = test_fold_rows(_metrics(data))
    if not rows:
        return ""
    names = [k for k in BASELINE_NAMES if any(k in r.baselines for r in rows)]
    head = "".join(
        f"<th>{_e(t)}</th>"
        for t in ["leads", "test rows", "model AUC", *(BASELINE_NAMES[k] + " AUC" for k in names)]
    )
    body = "".join(
        f"<tr><td>{_e(r.segment)}</td><td>{_e(_fmt(r.n))}</td><td>{_e(_fmt(r.auc))}</td>"
        + "".join(f"<td>{_e(_fmt(r.baselines.get(k)))}</td>" for k in names)
        + "</tr>"
        for r in rows
    )
    return (
        f"<h3>{_e(TEST_FOLD)}: ranking (AUC, 0.5 = a coin toss)</h3>"
        f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
    )


def _overview(data: ReportData) -> str:
    test = _metrics(data).get("test") or {}
    backtest = ((_metrics(data).get("backtest") or {}).get("summary") or {}).get("auc") or {}
    rows = {
        "model version": data.model_version,
        "scores as of": data.as_of,
        "open leads scored": f"{len(data.scores):,}",
        "calibration": (data.metadata.get("calibration") or {}).get("method", "–"),
        "test AUC": _fmt(test.get("auc")),
        "test Brier": _fmt(test.get("brier"), 4),
        "test ECE": _fmt(test.get("ece"), 4),
        "test top-decile lift": _fmt(test.get("top_decile_lift"), 1),
        "label window": f"{_label_window(data)} days",
    }
    if backtest.get("mean") is not None:
        rows["backtest AUC (earlier periods)"] = (
            f"{_fmt(backtest.get('mean'))} ± {_fmt(backtest.get('std'))}"
        )
    items = "".join(f"<tr><th>{_e(k)}</th><td>{_e(v)}</td></tr>" for k, v in rows.items())
    body = f'<table class="card">{items}</table>' + _test_fold_table(data)
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
            formats={"n": "int", "positives": "int", "top_decile_lift": 1},
        )
    warnings = _metrics(data).get("warnings") or []
    if warnings:
        body += "<h3>What training warned about</h3><ul>" + "".join(
            f"<li>{_e(w)}</li>" for w in warnings
        ) + "</ul>"
    if data.missing:
        body += _note(f"Not built yet: {', '.join(data.missing)}. {MONITORING_HINT}")
    return _section("overview", body)


def _level_by_period(data: ReportData) -> str:
    """Converted against predicted over each test period at training: a shift in the conversion
    rate shows here even where every reliability bin looks close (a low base rate)."""
    metrics = _metrics(data)
    period = (data.metadata.get("training_window") or {}).get("test_period") or ["", ""]
    periods = [
        (p["test_period"][1][:10], p["rows"], p["mean_predicted"], p["observed_rate"], p["z"])
        for p in (metrics.get("backtest") or {}).get("periods") or []
        if "observed_rate" in p and p["test_period"][1] != period[1]  # the test period: below
    ][::-1]
    level = metrics.get("test_calibration_in_the_large")
    if level:
        n = (metrics.get("test") or {}).get("n")
        periods.append(
            (f"{period[1][:10]} (test)", n, level["mean_predicted"], level["observed_rate"],
             level["z"])
        )  # fmt: skip
    if not periods:
        return ""
    body = "".join(
        f"<tr><td>{_e(end)}</td><td>{_e(_fmt(n))}</td><td>{predicted:.1%}</td>"
        f"<td>{observed:.1%}</td><td>{_e(_fmt(z, 1))}</td></tr>"
        for end, n, predicted, observed, z in periods
    )
    return (
        "<h3>Converted against predicted, test period by test period</h3>"
        "<table><thead><tr><th>period ending</th><th>rows</th><th>predicted</th>"
        f"<th>converted</th><th>z</th></tr></thead><tbody>{body}</tbody></table>"
        + _note(
            "Each earlier period was scored by a model trained only on what came before it. "
            "A z beyond ±3 is more than chance: the conversion rate moved away from what the "
            "model was calibrated for (a shift), and the model needs recent data."
        )
    )


def _calibration(data: ReportData) -> str:
    series = []
    test_bins = _metrics(data).get("test_reliability") or []
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
    body = _chart(
        calibration_svg(series),
        "Dots near the dashed diagonal mean the probabilities can be taken at face value: "
        "of leads scored 0.30, about 30% converted. Dot size follows the number of leads; "
        "each vertical bar is the 95% (Wilson) interval of the observed rate, wide where a "
        "bin holds few leads, so a dot far off the diagonal with a long bar is no evidence.",
    )
    body += _level_by_period(data)
    if matured.empty:
        body += _note(f"{TEST_FOLD}: the blue points are the model's test fold.")
        body += _no_matured(data)
    return _section("calibration", body)


def _test_fold_lift(data: ReportData) -> str:
    metrics = _metrics(data)
    model = (metrics.get("test") or {}).get("top_decile_lift")
    rule = (metrics.get("rule_based") or {}).get("top_decile_lift")
    if model is None:
        return ""
    chart = grouped_bars_svg(
        ["top tenth of leads"],
        [("model", [float(model)]), ("rule-based score", [None if rule is None else float(rule)])],
        "lift over the average rate",
        "test fold lift",
        digits=1,
        reference=1.0,
    )
    return (
        f"<h3>{_e(TEST_FOLD)}</h3>"
        + _chart(
            chart,
            f"On the test fold the tenth of leads the model ranks highest converted "
            f"{float(model):.1f} times as often as the average lead; the dashed line (1) is a "
            "random order."
        )
    )


def _lift(data: ReportData) -> str:
    latest = _latest(data.lift, data.model_version)
    if latest.empty:
        return _section("lift", _test_fold_lift(data) + _no_matured(data))
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
        _chart(
            charts,
            f"Snapshot {snapshot}, outcomes matured: the leads ranked by probability and cut "
            "into tenths. Lift 3 in decile 1 means its leads converted three times as often as "
            "the average lead."
        ),
    )


def _model_vs_rules(data: ReportData) -> str:
    rows = [r for r in test_fold_rows(_metrics(data)) if r.auc is not None]
    charts, notes = [], []
    if rows:
        charts.append(
            grouped_bars_svg(
                [r.segment for r in rows],
                [
                    ("model", [r.auc for r in rows]),
                    ("rule-based score", [r.baselines.get("rule_based_auc") for r in rows]),
                    ("lead age alone", [r.baselines.get("lead_age_auc") for r in rows]),
                ],
                "AUC on the test fold",
                "model and rule-based AUC",
                reference=0.5,
            )
        )
        notes.append(
            f"Left: {TEST_FOLD}, how well each ranks converters above the rest "
            "(0.5, the dashed line, is a coin toss)."
        )
    if not data.rule_vs_model.empty:
        frame = data.rule_vs_model
        charts.append(
            grouped_bars_svg(
                [
                    _fmt(lo) if lo == hi else f"{_fmt(lo)}–{_fmt(hi)}"
                    for lo, hi in zip(frame["rule_min"], frame["rule_max"], strict=True)
                ],
                [("mean model score", [float(v) for v in frame["mean_score"]])],
                "mean model score (0-100)",
                "model score by rule-based score",
                digits=0,
            )
        )
        notes.append(
            "Right: open leads in six equal groups by the points the rule-based score gives "
            "them (the labels), with the mean score the model gives the same leads; where the "
            "bars do not rise with the points, the rules and the model disagree."
        )
    if not charts:
        return _section("model-vs-rules", _note("No rule-based score in this build."))
    return _section(
        "model-vs-rules",
        _chart("".join(charts), *notes),
    )


def _key_factors(data: ReportData) -> str:
    if data.importance.empty:
        return _section("key-factors", _note(f"No feature importance recorded. {MONITORING_HINT}"))
    rows = data.importance
    chart = hbars_svg(
        [str(f).replace("_", " ") for f in rows["feature"]],
        [float(v) for v in rows["mean_abs_shap"]],
        "mean |SHAP| (how far the feature moves a score, in log-odds)",
        "key factors",
    )
    return _section(
        "key-factors",
        _chart(
            chart,
            "The features that move the model's scores most, across the training leads. "
            "Each lead's own reasons are in the last table."
        ),
    )


def _score_distribution(data: ReportData) -> str:
    thresholds = data.metadata.get("tier_thresholds") or dbt_vars().get("tier_thresholds") or {}
    tiers = sorted(set(data.scores["tier"].dropna()) | set(thresholds))
    summary = tier_summary(data.scores)
    summary["threshold"] = summary["tier"].map(lambda t: thresholds.get(t))
    total = float(summary["expected_conversions"].sum())
    return _section(
        "score-distribution",
        _chart(tier_panels_svg(data.scores, tiers))
        + _table(
            summary,
            {
                "tier": "tier",
                "threshold": "probability at or above",
                "leads": "open leads",
                "share": "share",
                "mean_probability": "mean probability",
                "expected_conversions": "expected conversions",
            },
            formats={
                "threshold": "pct",
                "leads": "int",
                "share": "pct",
                "mean_probability": "pct",
                "expected_conversions": "int",
            },
        )
        + _note(
            f"Open leads only (converted leads are left out). The {len(data.scores):,} open "
            f"leads are expected to bring about {round(total):,} conversions within the label "
            "window, if the probabilities hold."
        ),
    )


def _actual_vs_expected(data: ReportData) -> str:
    done = data.backtest
    if not done.empty:
        done = done[done["is_window_complete"].fillna(False).astype(bool)]
    if done.empty:
        return _section(
            "actual-vs-expected",
            _note(
                "No snapshot's label window has closed yet, so no tier can be judged on what "
                "it delivered. Each build adds a snapshot; this chart fills in once the "
                f"first is {_label_window(data)} days old."
            ),
        )
    latest = done[done["as_of"] == done["as_of"].max()]
    latest = latest[latest["model_version"] == latest["model_version"].iloc[0]]
    latest = latest.sort_values("tier")
    chart = grouped_bars_svg(
        [str(t) for t in latest["tier"]],
        [
            ("expected", [float(v) for v in latest["expected_conversions"]]),
            ("converted", [float(v) for v in latest["actual_conversions"]]),
        ],
        "conversions",
        "actual and expected conversions by tier",
        digits=0,
    )
    return _section(
        "actual-vs-expected",
        _chart(
            chart,
            f"Snapshot {str(latest['as_of'].iloc[0])[:10]}, its label window closed: the "
            "conversions its probabilities promised per tier beside those that happened."
        ),
    )


def _trends(data: ReportData) -> str:
    history = data.history
    if not history.empty:
        history = history[history["model_version"] == data.model_version]
    builds = sorted(history["as_of"].unique()) if not history.empty else []
    if len(builds) < 2:
        return _section(
            "trends",
            _note(
                "One build so far: each build adds a snapshot to lead_score_history, and the "
                "tier mix, the A-leads per build and the leads that moved appear here from the "
                "second build on."
            ),
        )
    tiers = sorted(history["tier"].unique())
    labels = [str(b)[:10] for b in builds]
    pivot = history.pivot_table(index="as_of", columns="tier", values="leads", aggfunc="sum")
    pivot = pivot.reindex(builds).fillna(0)
    top_tier = tiers[0]
    charts = stacked_bars_svg(
        labels,
        [(t, [float(v) for v in pivot[t]]) for t in tiers],
        "share of scored leads",
        "tier mix over builds",
    ) + bars_svg(
        labels,
        [float(v) for v in pivot[top_tier]],
        "build (as of)",
        f"tier {top_tier} leads per build",
    )
    body = _chart(charts)
    if not data.movers.empty:
        body += "<h3>Open leads that moved most since the previous build</h3>" + _table(
            data.movers,
            {
                "lead_id": "lead",
                "score_before": "score before",
                "score": "score now",
                "change": "change",
                "tier_before": "tier before",
                "tier": "tier now",
            },
            formats={"score_before": "int", "score": "int", "change": "int"},
        )
    return _section("trends", body)


def _data_quality(data: ReportData) -> str:
    if data.rejected.empty:
        text = (
            MONITORING_HINT
            if "rejected_rows" in data.missing
            else "No input row was rejected: every lead, event and conversion was usable."
        )
        return _section("data-quality", _note(text))
    frame = data.rejected
    labels = [f"{i}: {r}" for i, r in zip(frame["input_name"], frame["reject_reason"], strict=True)]
    chart = hbars_svg(
        labels, [float(v) for v in frame["rows"]], "rows rejected", "rejected rows", digits=0
    )
    return _section(
        "data-quality",
        _chart(
            chart,
            f"{int(frame['rows'].sum()):,} input rows were set aside, by input and reason; "
            "each is in the rejected_rows table with its row number, to fix at the source."
        ),
    )


def _segments(data: ReportData) -> str:
    latest = _latest(data.segments, data.model_version)
    if latest.empty:
        return _section("segments", _test_fold_table(data) + _no_matured(data))
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
            formats={"n": "int", "positives": "int"},
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
    ).copy()
    complete = rows["is_window_complete"].fillna(False).astype(bool)
    # an open window's count is a floor, not a rate: say so instead of printing "0.0%"
    rows["converted"] = [
        _fmt(int(v)) if done else f"{int(v):,} so far"
        for v, done in zip(rows["actual_conversions"].fillna(0), complete, strict=True)
    ]
    rows["rate"] = [
        f"{float(v):.1%}" if done and v == v else "window open"
        for v, done in zip(rows["conversion_rate"], complete, strict=True)
    ]
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
                "converted": "converted",
                "rate": "rate",
            },
            formats={"leads": "int", "expected_conversions": "int", "days_since_snapshot": "int"},
        )
        + _note(
            f"A snapshot's rate is final once its label window ({_label_window(data)} days) "
            "has passed; before that, the conversions are counted so far."
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
        _chart(
            chart,
            f"{score_text}{shifted} of {len(inputs)} model inputs moved more than PSI "
            f"{data.psi_warn:g} from the training distribution; the 30 largest are shown. "
            f"Above {data.psi_error:g} the population has changed enough to consider retraining."
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
        _card_table(
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
    context = {c: c.replace("_", " ") for c in CONTEXT_COLUMNS if c in rows.columns}
    return _section(
        "top-leads",
        _note(
            f"The {len(rows)} open leads with the highest probability (converted leads are "
            "left out), as leadscore show lists them."
        )
        + _table(
            rows,
            {
                "lead_id": "lead",
                "score": "score",
                "tier": "tier",
                **context,
                "up": "pushes the score up",
                "down": "holds it back",
            },
            formats={"score": "int"},
        ),
    )


STYLE = """
body { font-family: -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; margin: 24px auto;
       max-width: 1120px; color: #111827; padding: 0 16px; }
h1 { font-size: 24px; margin-bottom: 4px; } h2 { font-size: 18px; margin-top: 32px;
     border-bottom: 1px solid #e5e7eb; padding-bottom: 4px; } h3 { font-size: 14px; }
nav a { margin-right: 12px; font-size: 13px; }
table { border-collapse: collapse; font-size: 12px; margin: 8px 0; max-width: 100%; }
td { overflow-wrap: break-word; }
td:first-child { white-space: nowrap; }
svg { max-width: 100%; height: auto; }
th, td { border-bottom: 1px solid #e5e7eb; padding: 4px 8px; text-align: left;
         vertical-align: top; }
table.card th { width: 180px; color: #4b5563; font-weight: normal; }
tr.flagged td { background: #fdecea; }
.chart { display: flex; flex-wrap: wrap; gap: 8px 16px; align-items: flex-start; }
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
        _model_vs_rules(data),
        _key_factors(data),
        _score_distribution(data),
        _actual_vs_expected(data),
        _trends(data),
        _drift(data),
        _segments(data),
        _backtest(data),
        _data_quality(data),
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
    add_path_option(parser, "--warehouse", None)
    add_path_option(parser, "--artifacts", None)
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
