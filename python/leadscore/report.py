"""``leadscore report``: one self-contained HTML page on how the lead scores are doing.

It reads the warehouse (read-only) and the scoring model's metadata.json, and writes a page
with no external resources (charts are inline SVG): the model and its test metrics, the
calibration curve (test fold at training and matured outcomes), lift and cumulative gain,
the score distribution by tier, drift per feature (PSI), the per-segment check, the backtest
by tier, champion against challenger, and the top leads with their reasons.

Loading (``load_report``) and rendering (``render_report``) are separate, so the page can be
rendered from hand-made data; the chart helpers are pure functions, numbers in and SVG out.
"""

from __future__ import annotations

import argparse
import html
import json
import math
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from leadscore.config import artifacts_dir, dbt_vars, models_dir, warehouse_path

__all__ = ["ReportData", "load_report", "main", "render_report"]

DEFAULT_OUT = Path("reports/leadscore_report.html")
TIER_COLOURS = {"A": "#1b7f3b", "B": "#5aa469", "C": "#e0a526", "D": "#b9c0c8"}
SERIES_COLOURS = ("#2563eb", "#d9480f")
STATUS_COLOURS = {"stable": "#5aa469", "moderate shift": "#e0a526", "large shift": "#c92a2a"}
MONITORING_HINT = "Build the monitoring marts with: dbt build --select tag:scoring"

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


class ReportError(RuntimeError):
    """The report cannot be written; the message says what to do."""


@dataclass
class ReportData:
    """Everything the page shows; empty frames render as "not available yet" notes."""

    model_version: str
    as_of: str
    scores: pd.DataFrame
    top_leads: pd.DataFrame
    metadata: dict[str, Any] = field(default_factory=dict)
    registry: pd.DataFrame = field(default_factory=pd.DataFrame)
    evaluation: pd.DataFrame = field(default_factory=pd.DataFrame)
    reliability: pd.DataFrame = field(default_factory=pd.DataFrame)
    lift: pd.DataFrame = field(default_factory=pd.DataFrame)
    drift: pd.DataFrame = field(default_factory=pd.DataFrame)
    segments: pd.DataFrame = field(default_factory=pd.DataFrame)
    backtest: pd.DataFrame = field(default_factory=pd.DataFrame)
    comparison: pd.DataFrame = field(default_factory=pd.DataFrame)
    missing: list[str] = field(default_factory=list)
    psi_warn: float = 0.1
    psi_error: float = 0.25


# --------------------------------------------------------------------------- loading


def _connect(warehouse: Path) -> duckdb.DuckDBPyConnection:
    if not warehouse.exists():
        raise ReportError(f"No warehouse at {warehouse}. Run: make demo")
    try:
        return duckdb.connect(str(warehouse), read_only=True)
    except duckdb.IOException as exc:
        raise ReportError(
            f"Cannot open {warehouse}: {exc}. Another process (a running dbt build?) holds it; "
            "wait for it to finish and run leadscore report again."
        ) from exc


def _frame(con: duckdb.DuckDBPyConnection, query: str, params: Sequence[Any] = ()) -> pd.DataFrame:
    return con.execute(query, list(params)).df()


def _has_table(con: duckdb.DuckDBPyConnection, schema: str, name: str) -> bool:
    query = (
        "select count(*) from information_schema.tables where table_schema = ? and table_name = ?"
    )
    return bool(con.execute(query, [schema, name]).fetchone()[0])


def _optional(
    con: duckdb.DuckDBPyConnection, table: str, query: str, missing: list[str], params=()
) -> pd.DataFrame:
    """The query's rows, or an empty frame (and the table noted as missing) before it is built."""
    schema, _, name = table.rpartition(".")
    if not _has_table(con, schema or "main", name):
        missing.append(table)
        return pd.DataFrame()
    return _frame(con, query, params)


def _metadata(artifacts: Path, version: str) -> dict[str, Any]:
    path = models_dir(artifacts) / version / "metadata.json"
    return json.loads(path.read_text()) if path.is_file() else {}


def _latest(frame: pd.DataFrame, version: str) -> pd.DataFrame:
    """Rows of the newest snapshot (as_of) of one model version."""
    if frame.empty:
        return frame
    rows = frame[frame["model_version"] == version]
    if rows.empty:
        return rows
    return rows[rows["as_of"] == rows["as_of"].max()].reset_index(drop=True)


def load_report(warehouse: Path, artifacts: Path, top: int = 20) -> ReportData:
    """Read what the page shows from the warehouse and the scoring model's metadata."""
    con = _connect(warehouse)
    try:
        if not _has_table(con, "main", "lead_scores"):
            raise ReportError(f"{warehouse} has no lead_scores yet. Run: make demo")
        # converted leads are no prospects: out of the tiers, expected conversions and lists
        scores = _frame(
            con,
            "select conversion_probability, score, tier from lead_scores where not is_converted",
        )
        if scores.empty:
            raise ReportError("lead_scores is empty: there is nothing to report on.")
        version, as_of = con.execute(
            "select any_value(model_version), max(as_of) from lead_scores"
        ).fetchone()
        top_leads = _frame(
            con,
            "select lead_id, score, tier, fit_score, engagement_score, conversion_probability, "
            "top_reasons, top_factors from lead_scores where not is_converted "
            "order by conversion_probability desc, lead_id limit ?",
            [top],
        )
        missing: list[str] = []
        q = "select * from {} order by all"
        data = ReportData(
            model_version=version,
            as_of=str(as_of),
            scores=scores,
            top_leads=top_leads,
            metadata=_metadata(artifacts, version),
            missing=missing,
            registry=_optional(
                con,
                "leadscore_models.model_registry",
                "select * from leadscore_models.model_registry order by created_at",
                missing,
            ),
            evaluation=_optional(con, "model_evaluation", q.format("model_evaluation"), missing),
            reliability=_optional(con, "model_reliability", q.format("model_reliability"), missing),
            lift=_optional(con, "model_lift", q.format("model_lift"), missing),
            drift=_optional(
                con, "feature_drift", "select * from feature_drift order by psi desc", missing
            ),
            segments=_optional(
                con, "model_segment_evaluation", q.format("model_segment_evaluation"), missing
            ),
            backtest=_optional(con, "score_backtest", q.format("score_backtest"), missing),
            comparison=_optional(
                con,
                "champion_challenger_comparison",
                q.format("champion_challenger_comparison"),
                missing,
            ),
        )
    finally:
        con.close()
    settings = dbt_vars()
    data.psi_warn = float(settings.get("psi_warn", data.psi_warn))
    data.psi_error = float(settings.get("psi_error", data.psi_error))
    return data


# --------------------------------------------------------------------------- SVG charts


def _e(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _fmt(value: Any, digits: int = 3) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def _tick(value: float) -> str:
    """An axis label: whole numbers without decimals, small ones with up to two."""
    if abs(value - round(value)) < 1e-9:
        return f"{round(value):,}"
    return f"{value:.2f}".rstrip("0")


def _nice_max(value: float, step: float) -> float:
    """The smallest multiple of step at or above value (at least one step)."""
    return max(step, math.ceil(value / step - 1e-9) * step)


def _nice_top(value: float) -> float:
    """An axis maximum at or above value whose five ticks are round (1, 2, 2.5 or 5 x 10^k)."""
    if value <= 0:
        return 1.0
    raw = value / 5
    magnitude = 10 ** math.floor(math.log10(raw))
    tick = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw - 1e-12)
    return tick * 5


@dataclass(frozen=True)
class Frame:
    """A chart's plotting area inside its SVG canvas."""

    width: int = 440
    height: int = 300
    left: int = 52
    right: int = 16
    top: int = 16
    bottom: int = 44

    @property
    def inner_width(self) -> int:
        return self.width - self.left - self.right

    @property
    def inner_height(self) -> int:
        return self.height - self.top - self.bottom

    def x(self, value: float, maximum: float) -> float:
        return self.left + self.inner_width * (value / maximum if maximum else 0)

    def y(self, value: float, maximum: float) -> float:
        return self.top + self.inner_height * (1 - (value / maximum if maximum else 0))


def _svg(frame: Frame, body: list[str], label: str) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="{_e(label)}" '
        f'width="{frame.width}" height="{frame.height}" viewBox="0 0 {frame.width} '
        f'{frame.height}" font-family="sans-serif" font-size="11">' + "".join(body) + "</svg>"
    )


def _axes(frame: Frame, x_max: float, y_max: float, x_label: str, y_label: str) -> list[str]:
    """Axis lines, five ticks a side with grid lines, and the two axis titles."""
    parts = []
    for i in range(6):
        yv = y_max * i / 5
        y = frame.y(yv, y_max)
        parts.append(
            f'<line x1="{frame.left}" x2="{frame.width - frame.right}" y1="{y:.1f}" '
            f'y2="{y:.1f}" stroke="#e5e7eb"/><text x="{frame.left - 6}" y="{y + 4:.1f}" '
            f'text-anchor="end">{_tick(yv)}</text>'
        )
    for i in range(6):
        xv = x_max * i / 5
        x = frame.x(xv, x_max)
        parts.append(
            f'<text x="{x:.1f}" y="{frame.height - frame.bottom + 16}" '
            f'text-anchor="middle">{_tick(xv)}</text>'
        )
    base = frame.height - frame.bottom
    parts.append(
        f'<line x1="{frame.left}" x2="{frame.width - frame.right}" y1="{base}" y2="{base}" '
        f'stroke="#6b7280"/><line x1="{frame.left}" x2="{frame.left}" y1="{frame.top}" '
        f'y2="{base}" stroke="#6b7280"/>'
        f'<text x="{frame.left + frame.inner_width / 2:.1f}" y="{frame.height - 8}" '
        f'text-anchor="middle">{_e(x_label)}</text>'
        f'<text transform="translate(14 {frame.top + frame.inner_height / 2:.1f}) rotate(-90)" '
        f'text-anchor="middle">{_e(y_label)}</text>'
    )
    return parts


def _legend(frame: Frame, entries: Sequence[tuple[str, str]]) -> list[str]:
    parts = []
    for i, (name, colour) in enumerate(entries):
        y = frame.top + 6 + 16 * i
        parts.append(
            f'<rect x="{frame.left + 10}" y="{y}" width="10" height="10" fill="{colour}"/>'
            f'<text x="{frame.left + 26}" y="{y + 9}">{_e(name)}</text>'
        )
    return parts


def calibration_svg(series: Sequence[tuple[str, Sequence[tuple[float, float, int]]]]) -> str:
    """Observed rate against mean predicted probability, one line per series of
    (mean_predicted, observed_rate, n) points (dot area grows with n), and the diagonal."""
    frame = Frame(width=440, height=360)
    values = [max(p, o) for _, points in series for p, o, _ in points] or [0.1]
    top = min(1.0, _nice_max(max(values), 0.1))
    body = _axes(frame, top, top, "mean predicted probability", "observed conversion rate")
    body.append(
        f'<line x1="{frame.x(0, top)}" y1="{frame.y(0, top)}" x2="{frame.x(top, top)}" '
        f'y2="{frame.y(top, top)}" stroke="#9ca3af" stroke-dasharray="4 4"/>'
    )
    largest = max([n for _, points in series for _, _, n in points] or [1])
    for (name, points), colour in zip(series, SERIES_COLOURS, strict=False):
        coords = [(frame.x(p, top), frame.y(min(o, top), top), n) for p, o, n in points]
        if len(coords) > 1:
            path = " ".join(f"{x:.1f},{y:.1f}" for x, y, _ in coords)
            body.append(f'<polyline points="{path}" fill="none" stroke="{colour}"/>')
        for x, y, n in coords:
            radius = 2.5 + 6 * math.sqrt(n / largest)
            body.append(
                f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{radius:.1f}" fill="{colour}" '
                f'fill-opacity="0.6"><title>{_e(name)}: {n} leads</title></circle>'
            )
    body += _legend(
        frame, [(name, c) for (name, _), c in zip(series, SERIES_COLOURS, strict=False)]
    )
    return _svg(frame, body, "calibration curve")


def bars_svg(
    labels: Sequence[str],
    values: Sequence[float],
    x_label: str,
    y_label: str,
    reference: float | None = None,
    colour: str = SERIES_COLOURS[0],
) -> str:
    """Vertical bars with their values on top, and an optional dashed reference line."""
    frame = Frame()
    top = _nice_top(max([*values, reference or 0, 1e-9]) * 1.1)
    body = _axes(frame, 1, top, x_label, y_label)[:6]  # horizontal grid only; labels below
    base = frame.height - frame.bottom
    body.append(
        f'<line x1="{frame.left}" x2="{frame.width - frame.right}" y1="{base}" y2="{base}" '
        f'stroke="#6b7280"/><text x="{frame.left + frame.inner_width / 2:.1f}" '
        f'y="{frame.height - 8}" text-anchor="middle">{_e(x_label)}</text>'
        f'<text transform="translate(14 {frame.top + frame.inner_height / 2:.1f}) rotate(-90)" '
        f'text-anchor="middle">{_e(y_label)}</text>'
    )
    slot = frame.inner_width / max(1, len(values))
    for i, (label, value) in enumerate(zip(labels, values, strict=True)):
        x = frame.left + i * slot + slot * 0.15
        y = frame.y(value, top)
        body.append(
            f'<rect x="{x:.1f}" y="{y:.1f}" width="{slot * 0.7:.1f}" height="{base - y:.1f}" '
            f'fill="{colour}"><title>{_e(label)}: {value:.3g}</title></rect>'
            f'<text x="{x + slot * 0.35:.1f}" y="{y - 3:.1f}" text-anchor="middle">'
            f"{value:.2g}</text>"
            f'<text x="{x + slot * 0.35:.1f}" y="{base + 14}" text-anchor="middle">'
            f"{_e(label)}</text>"
        )
    if reference is not None:
        y = frame.y(reference, top)
        body.append(
            f'<line x1="{frame.left}" x2="{frame.width - frame.right}" y1="{y:.1f}" '
            f'y2="{y:.1f}" stroke="#c92a2a" stroke-dasharray="4 4"/>'
        )
    return _svg(frame, body, y_label)


def gain_svg(points: Sequence[tuple[float, float]]) -> str:
    """Cumulative gain: share of conversions found against share of leads called, with the
    diagonal a random order would give."""
    frame = Frame()
    body = _axes(
        frame, 1, 1, "share of leads called (highest scores first)", "share of conversions"
    )
    body.append(
        f'<line x1="{frame.x(0, 1)}" y1="{frame.y(0, 1)}" x2="{frame.x(1, 1)}" '
        f'y2="{frame.y(1, 1)}" stroke="#9ca3af" stroke-dasharray="4 4"/>'
    )
    path = " ".join(f"{frame.x(x, 1):.1f},{frame.y(y, 1):.1f}" for x, y in [(0, 0), *points])
    body.append(
        f'<polyline points="{path}" fill="none" stroke="{SERIES_COLOURS[0]}" stroke-width="2"/>'
    )
    return _svg(frame, body, "cumulative gain")


def stacked_histogram_svg(scores: pd.DataFrame, tiers: Sequence[str], bucket: int = 5) -> str:
    """Leads per score bucket (0-100), each bar split by tier."""
    frame = Frame(width=640)
    buckets = list(range(0, 100, bucket))
    counts = {
        tier: [
            int(
                (
                    (scores["tier"] == tier)
                    & (scores["score"].clip(0, 99) // bucket == b // bucket)
                ).sum()
            )
            for b in buckets
        ]
        for tier in tiers
    }
    totals = [sum(counts[t][i] for t in tiers) for i in range(len(buckets))]
    top = _nice_top(max(totals or [1]) * 1.05)
    body = _axes(frame, 100, top, "score", "leads")
    slot = frame.inner_width / len(buckets)
    for i, start in enumerate(buckets):
        height_so_far = 0
        for tier in tiers:
            n = counts[tier][i]
            if not n:
                continue
            y_top = frame.y(height_so_far + n, top)
            y_bottom = frame.y(height_so_far, top)
            body.append(
                f'<rect x="{frame.left + i * slot + 1:.1f}" y="{y_top:.1f}" '
                f'width="{slot - 2:.1f}" height="{y_bottom - y_top:.1f}" '
                f'fill="{TIER_COLOURS.get(tier, "#6b7280")}"><title>score {start}-'
                f"{start + bucket - 1}, tier {_e(tier)}: {n} leads</title></rect>"
            )
            height_so_far += n
    body += _legend(
        Frame(width=640, left=frame.width - 140),
        [(f"tier {t}", TIER_COLOURS.get(t, "#6b7280")) for t in tiers],
    )
    return _svg(frame, body, "score distribution by tier")


def psi_bars_svg(
    features: Sequence[str],
    psi: Sequence[float],
    statuses: Sequence[str],
    warn: float,
    error: float,
) -> str:
    """Horizontal PSI bars per feature, coloured by drift status, with the warn and error lines."""
    row = 16
    left = 220
    frame = Frame(width=680, height=40 + row * len(features) + 30, left=left, top=24, bottom=40)
    top = _nice_top(max([*psi, error * 1.2]))
    body = []
    for i in range(6):
        v = top * i / 5
        x = frame.x(v, top)
        body.append(
            f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{frame.top}" y2="{frame.height - frame.bottom}" '
            f'stroke="#e5e7eb"/><text x="{x:.1f}" y="{frame.height - frame.bottom + 14}" '
            f'text-anchor="middle">{_tick(v)}</text>'
        )
    for i, (name, value, status) in enumerate(zip(features, psi, statuses, strict=True)):
        y = frame.top + i * row
        width = frame.x(value, top) - frame.left
        body.append(
            f'<text x="{left - 6}" y="{y + 11}" text-anchor="end">{_e(name)}</text>'
            f'<rect x="{left}" y="{y + 2}" width="{max(width, 0.5):.1f}" height="{row - 4}" '
            f'fill="{STATUS_COLOURS.get(status, "#6b7280")}"><title>{_e(name)}: PSI '
            f"{value:.3f} ({_e(status)})</title></rect>"
            f'<text x="{left + width + 4:.1f}" y="{y + 11}">{value:.3f}</text>'
        )
    for value, label in ((warn, "warn"), (error, "error")):
        x = frame.x(value, top)
        body.append(
            f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{frame.top - 8}" '
            f'y2="{frame.height - frame.bottom}" stroke="#374151" stroke-dasharray="4 3"/>'
            f'<text x="{x + 3:.1f}" y="{frame.top - 10}">{label} {value:g}</text>'
        )
    body.append(
        f'<text x="{left + frame.inner_width / 2:.1f}" y="{frame.height - 8}" '
        'text-anchor="middle">population stability index</text>'
    )
    return _svg(frame, body, "drift per feature")


# --------------------------------------------------------------------------- HTML


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
