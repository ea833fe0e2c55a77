"""The model registry in the warehouse: every version, its metrics, and which is the champion.

Tables (schema ``leadscore_models``, declared as dbt sources):

* ``model_registry``: one row per version;
* ``model_feature_importance``: gain, split count and mean |SHAP| per feature and version;
* ``model_feature_reference``: the training distribution of every feature and of the score,
  which the drift mart compares the current leads against.

The champion pointer file in artifacts/models is the source of truth (the scoring plugin reads
it without touching the warehouse); ``sync_registry`` mirrors it into ``is_champion``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import duckdb

from leadscore.artifacts import champion_version, list_versions, load_artifact

__all__ = ["SCHEMA", "record_model", "sync_registry"]

SCHEMA = "leadscore_models"

_DDL = f"""
create schema if not exists {SCHEMA};
create table if not exists {SCHEMA}.model_registry (
    model_version varchar primary key,
    created_at timestamp,
    is_champion boolean,
    artifact_path varchar,
    feature_schema_hash varchar,
    training_rows bigint,
    training_data_hash varchar,
    split varchar,
    calibration_method varchar,
    test_auc double,
    test_pr_auc double,
    test_brier double,
    test_log_loss double,
    test_ece double,
    test_top_decile_lift double,
    rule_based_auc double,
    oracle_auc double,
    metrics json
);
alter table {SCHEMA}.model_registry add column if not exists new_lead_auc double;
alter table {SCHEMA}.model_registry add column if not exists established_lead_auc double;
alter table {SCHEMA}.model_registry add column if not exists backtest_auc_mean double;
alter table {SCHEMA}.model_registry add column if not exists backtest_auc_std double;
alter table {SCHEMA}.model_registry add column if not exists worst_calibration_gap double;
create table if not exists {SCHEMA}.model_feature_importance (
    model_version varchar,
    feature varchar,
    gain double,
    splits bigint,
    mean_abs_shap double,
    importance_rank integer
);
create table if not exists {SCHEMA}.model_feature_reference (
    model_version varchar,
    feature varchar,
    bin integer,
    lower_edge double,
    upper_edge double,
    reference_share double
);
"""


_REGISTRY_COLUMNS = (
    "model_version, created_at, is_champion, artifact_path, feature_schema_hash, training_rows, "
    "training_data_hash, split, calibration_method, test_auc, test_pr_auc, test_brier, "
    "test_log_loss, test_ece, test_top_decile_lift, rule_based_auc, oracle_auc, metrics, "
    "new_lead_auc, established_lead_auc, backtest_auc_mean, backtest_auc_std, "
    "worst_calibration_gap"
)


def _connect(warehouse: Path) -> duckdb.DuckDBPyConnection:
    try:
        con = duckdb.connect(str(warehouse))
    except duckdb.IOException as exc:
        raise RuntimeError(
            f"Cannot write the model registry in {warehouse}: {exc}. Another process (a running "
            "dbt build?) holds the warehouse; wait for it and run: leadscore promote --sync"
        ) from exc
    con.execute(_DDL)
    return con


def _reference_rows(version: str, metadata: dict[str, Any]) -> list[tuple[Any, ...]]:
    rows: list[tuple[Any, ...]] = []
    entries = list(metadata["reference"]["features"])
    entries.append(
        {
            "name": "__score__",
            "edges": metadata["reference"]["score_edges"],
            **metadata["reference"]["score"],
        }
    )
    for entry in entries:
        edges = entry["edges"]
        for b, share in enumerate(entry["shares"]):
            lower = edges[b] if b < len(edges) else None
            upper = edges[b + 1] if b + 1 < len(edges) else None
            # outer bins are open so current values beyond the training range still land in one
            lower = None if b == 0 else lower
            upper = None if b == len(entry["shares"]) - 1 else upper
            rows.append((version, entry["name"], b, lower, upper, share))
        rows.append((version, entry["name"], -1, None, None, entry["null_share"]))
    return rows


def record_model(warehouse: Path, metadata: dict[str, Any], path: Path, root: Path) -> None:
    """Insert (or replace) one version's rows, then mirror the champion pointer."""
    version = metadata["version"]
    m = metadata["metrics"]
    test = m["test"]
    con = _connect(warehouse)
    try:
        con.execute("begin")
        for table in ("model_registry", "model_feature_importance", "model_feature_reference"):
            con.execute(f"delete from {SCHEMA}.{table} where model_version = ?", [version])
        segments = m.get("segments") or {}
        backtest = (m.get("backtest") or {}).get("summary", {}).get("auc") or {}
        con.execute(
            f"insert into {SCHEMA}.model_registry ({_REGISTRY_COLUMNS}) values "
            "(?, ?, false, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                version,
                metadata["created_at"],
                str(path),
                metadata["feature_schema_hash"],
                metadata["training_rows"],
                metadata["training_data_hash"],
                m["split"],
                metadata["calibration"]["method"],
                test["auc"],
                test["pr_auc"],
                test["brier"],
                test["log_loss"],
                test["ece"],
                test["top_decile_lift"],
                (m.get("rule_based") or {}).get("auc"),
                m.get("oracle_auc"),
                json.dumps(m, default=str),
                (segments.get("new_leads") or {}).get("model", {}).get("auc"),
                (segments.get("established_leads") or {}).get("model", {}).get("auc"),
                backtest.get("mean"),
                backtest.get("std"),
                m.get("test_worst_bin_gap"),
            ],
        )
        ranked = sorted(metadata["feature_importance"], key=lambda r: -r["mean_abs_shap"])
        con.executemany(
            f"insert into {SCHEMA}.model_feature_importance values (?, ?, ?, ?, ?, ?)",
            [
                (version, r["feature"], r["gain"], r["splits"], r["mean_abs_shap"], i + 1)
                for i, r in enumerate(ranked)
            ],
        )
        con.executemany(
            f"insert into {SCHEMA}.model_feature_reference values (?, ?, ?, ?, ?, ?)",
            _reference_rows(version, metadata),
        )
        con.execute("commit")
        _mirror_champion(con, root)
    finally:
        con.close()


def _mirror_champion(con: duckdb.DuckDBPyConnection, root: Path) -> None:
    champion = champion_version(root)
    con.execute(
        f"update {SCHEMA}.model_registry set is_champion = (model_version = ?)", [champion or ""]
    )


def sync_registry(warehouse: Path, root: Path) -> None:
    """Record every version on disk that the registry lacks, and mirror the champion."""
    con = _connect(warehouse)
    try:
        known = {
            r[0]
            for r in con.execute(f"select model_version from {SCHEMA}.model_registry").fetchall()
        }
    finally:
        con.close()
    for version in list_versions(root):
        if version not in known:
            artifact = load_artifact(version, root)
            record_model(warehouse, artifact.metadata, artifact.path, root)
    con = _connect(warehouse)
    try:
        _mirror_champion(con, root)
    finally:
        con.close()
