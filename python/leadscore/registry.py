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
from collections.abc import Iterable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from leadscore.artifacts import champion_version, list_versions, load_artifact

__all__ = [
    "SCHEMA",
    "TABLES",
    "artifact_registry_tables",
    "record_model",
    "registry_tables",
    "sync_registry",
]

SCHEMA = "leadscore_models"


#: the tables of the registry and the columns of each (Arrow types): the DuckDB tables
#: (:func:`_ddl`) and the Spark build's copies are made from these
TABLES: dict[str, pa.Schema] = {
    "model_registry": pa.schema(
        [
            ("model_version", pa.string()),
            ("created_at", pa.timestamp("us")),
            ("is_champion", pa.bool_()),
            ("artifact_path", pa.string()),
            ("feature_schema_hash", pa.string()),
            ("training_rows", pa.int64()),
            ("training_data_hash", pa.string()),
            ("split", pa.string()),
            ("calibration_method", pa.string()),
            ("test_auc", pa.float64()),
            ("test_pr_auc", pa.float64()),
            ("test_brier", pa.float64()),
            ("test_log_loss", pa.float64()),
            ("test_ece", pa.float64()),
            ("test_top_decile_lift", pa.float64()),
            ("rule_based_auc", pa.float64()),
            ("oracle_auc", pa.float64()),
            ("metrics", pa.string()),  # JSON text
            ("new_lead_auc", pa.float64()),
            ("established_lead_auc", pa.float64()),
            ("backtest_auc_mean", pa.float64()),
            ("backtest_auc_std", pa.float64()),
            ("worst_calibration_gap", pa.float64()),
        ]
    ),
    "model_feature_importance": pa.schema(
        [
            ("model_version", pa.string()),
            ("feature", pa.string()),
            ("gain", pa.float64()),
            ("splits", pa.int64()),
            ("mean_abs_shap", pa.float64()),
            ("importance_rank", pa.int32()),
        ]
    ),
    "model_feature_reference": pa.schema(
        [
            ("model_version", pa.string()),
            ("feature", pa.string()),
            ("bin", pa.int32()),
            ("lower_edge", pa.float64()),
            ("upper_edge", pa.float64()),
            ("reference_share", pa.float64()),
        ]
    ),
}


_SQL_TYPES = {
    pa.string(): "varchar",
    pa.timestamp("us"): "timestamp",
    pa.bool_(): "boolean",
    pa.int64(): "bigint",
    pa.int32(): "integer",
    pa.float64(): "double",
}
_KEYS = {"model_registry": "model_version"}  # primary keys
_JSON = {"metrics"}  # JSON text, typed json in DuckDB


def _ddl() -> str:
    """The registry's tables in DuckDB, from :data:`TABLES`; a registry written by an earlier
    version gains the columns added since."""
    statements = [f"create schema if not exists {SCHEMA}"]
    for name, schema in TABLES.items():
        columns = [(f.name, "json" if f.name in _JSON else _SQL_TYPES[f.type]) for f in schema]
        definitions = ", ".join(
            f"{column} {kind}" + (" primary key" if _KEYS.get(name) == column else "")
            for column, kind in columns
        )
        statements.append(f"create table if not exists {SCHEMA}.{name} ({definitions})")
        statements += [
            f"alter table {SCHEMA}.{name} add column if not exists {column} {kind}"
            for column, kind in columns
            if _KEYS.get(name) != column
        ]
    return ";\n".join(statements) + ";"


_DDL = _ddl()


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


def _created_at(text: str) -> datetime:
    """metadata's created_at (ISO 8601, UTC) as a naive UTC timestamp."""
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is not None:
        moment = moment.astimezone(timezone.utc).replace(tzinfo=None)
    return moment


def _registry_row(metadata: dict[str, Any], path: Path, champion: str | None) -> tuple[Any, ...]:
    version = metadata["version"]
    m = metadata["metrics"]
    test = m["test"]
    segments = m.get("segments") or {}
    backtest = (m.get("backtest") or {}).get("summary", {}).get("auc") or {}
    return (
        version,
        _created_at(metadata["created_at"]),
        version == champion,
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
    )


def _importance_rows(metadata: dict[str, Any]) -> list[tuple[Any, ...]]:
    version = metadata["version"]
    ranked = sorted(metadata["feature_importance"], key=lambda r: -r["mean_abs_shap"])
    return [
        (version, r["feature"], r["gain"], r["splits"], r["mean_abs_shap"], i + 1)
        for i, r in enumerate(ranked)
    ]


def _reference_rows(metadata: dict[str, Any]) -> list[tuple[Any, ...]]:
    version = metadata["version"]
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


def registry_tables(
    models: Iterable[tuple[dict[str, Any], Path]], champion: str | None
) -> dict[str, pa.Table]:
    """The registry's rows of the model versions given as (metadata, folder), one Arrow table
    per registry table (:data:`TABLES`); is_champion is true for `champion` only.

    What the DuckDB registry and the Spark build's ``leadscore_models`` database both hold.
    """
    rows: dict[str, list[tuple[Any, ...]]] = {name: [] for name in TABLES}
    for metadata, path in models:
        rows["model_registry"].append(_registry_row(metadata, path, champion))
        rows["model_feature_importance"] += _importance_rows(metadata)
        rows["model_feature_reference"] += _reference_rows(metadata)
    return {
        name: pa.Table.from_arrays(
            [pa.array([r[i] for r in rows[name]], type=f.type) for i, f in enumerate(schema)],
            schema=schema,
        )
        for name, schema in TABLES.items()
    }


def artifact_registry_tables(
    root: Path, versions: Iterable[str] | None = None
) -> dict[str, pa.Table]:
    """:func:`registry_tables` of the versions in artifacts/models (all of them by default),
    the champion marked from its pointer file: the source of truth of the registry."""
    chosen = list_versions(root) if versions is None else list(versions)
    artifacts = [load_artifact(version, root) for version in chosen]
    return registry_tables(((a.metadata, a.path) for a in artifacts), champion_version(root))


def _write(con: duckdb.DuckDBPyConnection, tables: dict[str, pa.Table]) -> None:
    """Replace the rows of the versions in `tables` by theirs, in one transaction."""
    versions = tables["model_registry"].column("model_version").to_pylist()
    con.execute("begin")
    for name, table in tables.items():
        con.execute(
            f"delete from {SCHEMA}.{name} where list_contains(?, model_version)", [versions]
        )
        columns = ", ".join(table.column_names)
        con.register("leadscore_registry_rows", table)
        try:
            con.execute(
                f"insert into {SCHEMA}.{name} ({columns}) "
                f"select {columns} from leadscore_registry_rows"
            )
        finally:
            con.unregister("leadscore_registry_rows")
    con.execute("commit")


def record_model(warehouse: Path, metadata: dict[str, Any], path: Path, root: Path) -> None:
    """Insert (or replace) one version's rows, then mirror the champion pointer."""
    con = _connect(warehouse)
    try:
        _write(con, registry_tables([(metadata, path)], champion=None))
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
    missing = [version for version in list_versions(root) if version not in known]
    tables = artifact_registry_tables(root, missing)
    con = _connect(warehouse)
    try:
        if missing:
            _write(con, tables)
        _mirror_champion(con, root)
    finally:
        con.close()
