"""The report's data: everything the page shows, read from the warehouse (read-only) and the
scoring model's metadata.json into a ReportData."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from leadscore.config import dbt_vars, models_dir

__all__ = ["DEFAULT_OUT", "MONITORING_HINT", "ReportData", "ReportError", "load_report"]

DEFAULT_OUT = Path("reports/leadscore_report.html")
MONITORING_HINT = "Build the monitoring marts with: dbt build --select tag:scoring"


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
