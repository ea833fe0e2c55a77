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

__all__ = [
    "CONTEXT_COLUMNS",
    "DEFAULT_OUT",
    "MONITORING_HINT",
    "ReportData",
    "ReportError",
    "TestFoldRow",
    "load_report",
    "test_fold_rows",
    "tier_summary",
    "top_open_leads",
]

DEFAULT_OUT = Path("reports/leadscore_report.html")
MONITORING_HINT = "Build the monitoring marts with: dbt build --select tag:scoring"
# lead attributes shown beside each top lead, when the export has them
CONTEXT_COLUMNS = ("job_title", "company_size", "industry", "lead_source")
# the test-fold segments training writes into metadata['metrics']['segments']
SEGMENT_LABELS = {
    "all": "whole test fold",
    "new_leads": "new leads",
    "established_leads": "established leads",
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
    importance: pd.DataFrame = field(default_factory=pd.DataFrame)
    history: pd.DataFrame = field(default_factory=pd.DataFrame)
    movers: pd.DataFrame = field(default_factory=pd.DataFrame)
    rejected: pd.DataFrame = field(default_factory=pd.DataFrame)
    rule_vs_model: pd.DataFrame = field(default_factory=pd.DataFrame)
    missing: list[str] = field(default_factory=list)
    psi_warn: float = 0.1
    psi_error: float = 0.25


# --------------------------------------------------------------------------- loading


MOVERS_SQL = """
with served as (
    select * from lead_score_history where scored_as = 'served'
),

builds as (
    select distinct as_of from served order by as_of desc limit 2
),

pairs as (
    select
        now_.lead_id,
        before.score as score_before,
        now_.score,
        before.tier as tier_before,
        now_.tier,
        now_.score - before.score as change,
    from served as now_
    inner join served as before
        on now_.lead_id = before.lead_id
        and before.as_of = (select min(as_of) from builds)
        and before.model_version = now_.model_version
    inner join lead_scores as scores
        on now_.lead_id = scores.lead_id and not scores.is_converted
    where now_.as_of = (select max(as_of) from builds)
        and (select count(*) from builds) = 2
)

select * from pairs
where change <> 0
order by abs(change) desc, lead_id
limit 10
"""

RULE_VS_MODEL_SQL = """
with joined as (
    select
        features.rule_based_score,
        scores.score,
    from lead_scores as scores
    inner join lead_features as features using (lead_id)
    where not scores.is_converted
),

bucketed as (
    select
        *,
        ntile(6) over (order by rule_based_score) as bucket,
    from joined
)

select
    bucket,
    min(rule_based_score) as rule_min,
    max(rule_based_score) as rule_max,
    count(*) as leads,
    avg(score) as mean_score,
from bucketed
group by bucket
order by bucket
"""


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


def _columns(con: duckdb.DuckDBPyConnection, table: str) -> list[str]:
    rows = con.execute(
        "select column_name from information_schema.columns "
        "where table_schema = 'main' and table_name = ? order by ordinal_position",
        [table],
    ).fetchall()
    return [r[0] for r in rows]


def top_open_leads(con: duckdb.DuckDBPyConnection, top: int) -> pd.DataFrame:
    """The `top` open (not converted) leads by probability, with their reasons and the lead
    attributes of CONTEXT_COLUMNS that lead_features has. ``leadscore show`` and the report
    both list these, so they always agree."""
    context = [c for c in CONTEXT_COLUMNS if c in _columns(con, "lead_features")]
    extra = "".join(f", features.{c}" for c in context)
    join = "left join lead_features as features using (lead_id)" if context else ""
    return _frame(
        con,
        "select scores.lead_id, scores.score, scores.tier, scores.conversion_probability, "
        "scores.fit_score, scores.engagement_score, scores.top_reasons, scores.top_factors, "
        f"scores.model_version{extra} from lead_scores as scores {join} "
        "where not scores.is_converted "
        "order by scores.conversion_probability desc, scores.lead_id limit ?",
        [top],
    )


def tier_summary(scores: pd.DataFrame) -> pd.DataFrame:
    """Open leads per tier: count, share, mean probability and expected conversions."""
    summary = (
        scores.groupby("tier")
        .agg(
            leads=("score", "size"),
            mean_probability=("conversion_probability", "mean"),
            expected_conversions=("conversion_probability", "sum"),
        )
        .reset_index()
    )
    summary["share"] = summary["leads"] / summary["leads"].sum()
    return summary


def open_scores(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Probability, score and tier of every open lead (converted leads are no prospects)."""
    return _frame(
        con,
        "select conversion_probability, score, tier from lead_scores where not is_converted",
    )


@dataclass(frozen=True)
class TestFoldRow:
    """The model's test-fold AUC on one segment, with the baselines on the same rows."""

    segment: str
    n: int | None
    auc: float | None
    baselines: dict[str, float]


def _number(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return None if number != number else number  # NaN: not measured


def test_fold_rows(metrics: dict[str, Any]) -> list[TestFoldRow]:
    """The test fold's AUC overall and, when training measured them, on new and established
    leads, each beside its baselines (rule-based score, lead age, logistic regression)."""
    segments = metrics.get("segments") or {}
    test = metrics.get("test") or {}
    rows = []
    if "all" not in segments and test:
        rule = _number((metrics.get("rule_based") or {}).get("auc"))
        rows.append(
            TestFoldRow(
                SEGMENT_LABELS["all"],
                int(test["n"]) if test.get("n") is not None else None,
                _number(test.get("auc")),
                {"rule_based_auc": rule} if rule is not None else {},
            )
        )
    for key, label in SEGMENT_LABELS.items():
        report = segments.get(key)
        if not report:
            continue
        model = report.get("model") or {}
        baselines = {
            name: number
            for name, value in (report.get("baselines") or {}).items()
            if (number := _number(value)) is not None
        }
        n = model.get("n")
        rows.append(TestFoldRow(label, int(n) if n is not None else None,
                                _number(model.get("auc")), baselines))
    return rows


def load_report(warehouse: Path, artifacts: Path, top: int = 20) -> ReportData:
    """Read what the page shows from the warehouse and the scoring model's metadata."""
    con = _connect(warehouse)
    try:
        if not _has_table(con, "main", "lead_scores"):
            raise ReportError(f"{warehouse} has no lead_scores yet. Run: make demo")
        scores = open_scores(con)
        if scores.empty:
            raise ReportError(
                "lead_scores has no open leads: there is nothing to report on. "
                "Run: make demo"
            )
        version, as_of = con.execute(
            "select any_value(model_version), max(as_of) from lead_scores"
        ).fetchone()
        top_leads = top_open_leads(con, top)
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
            importance=_optional(
                con,
                "leadscore_models.model_feature_importance",
                "select feature, mean_abs_shap, importance_rank "
                "from leadscore_models.model_feature_importance where model_version = ? "
                "order by importance_rank limit 15",
                missing,
                [version],
            ),
            history=_optional(
                con,
                "lead_score_history",
                "select as_of, model_version, tier, count(*) as leads "
                "from lead_score_history where tier is not null and scored_as = 'served' "
                "group by all order by all",
                missing,
            ),
            movers=_optional(con, "lead_score_history", MOVERS_SQL, missing),
            rejected=_optional(
                con,
                "rejected_rows",
                "select input_name, reject_reason, count(*) as rows "
                "from rejected_rows group by all order by rows desc, input_name, reject_reason",
                missing,
            ),
            rule_vs_model=(
                _frame(con, RULE_VS_MODEL_SQL)
                if "rule_based_score" in _columns(con, "lead_features")
                else pd.DataFrame()
            ),
        )
    finally:
        con.close()
    settings = dbt_vars()
    data.psi_warn = float(settings.get("psi_warn", data.psi_warn))
    data.psi_error = float(settings.get("psi_error", data.psi_error))
    return data
