"""DuckDB functions that score leads in the warehouse, and the plain functions behind them.

``register(connection, root)`` adds to a DuckDB connection:

* ``leadscore_model_info(version)`` -> JSON: version, ordered features, vocabularies,
  tier thresholds... or ``{"error": ...}`` saying what to do when no usable model exists;
* ``leadscore_score(version, features DOUBLE[])`` -> calibrated conversion probability;
* ``leadscore_contributions(version, features DOUBLE[])`` -> TreeSHAP contributions
  (log-odds, one per feature, the base value last);
* ``leadscore_explain(version, features DOUBLE[], categories VARCHAR[], contributions DOUBLE[],
  templates VARCHAR, attributes VARCHAR[])`` -> ``{top_factors, top_reasons}``: the strongest
  factors with a reason in words each (``leadscore.reasons``);
* ``leadscore_pii_salt()`` -> the salt for hashing PII (LEADSCORE_PII_SALT, read at run time);
* ``leadscore_replace_file(source, target)`` and ``leadscore_prepare_dir(path)`` used to
  publish marts atomically.

The scoring functions are vectorised (``type='arrow'``: DuckDB hands over ~2,048 rows a call)
and use ``null_handling='special'`` so a NULL feature arrives as NaN and takes LightGBM's
missing-value branch instead of turning the whole row NULL.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from leadscore.artifacts import ModelError
from leadscore.scoring import Scorer, get_scorer

__all__ = [
    "DEFAULT_PII_SALT",
    "contribution_arrays",
    "explain_arrays",
    "features_to_matrix",
    "model_functions",
    "model_info",
    "register",
    "score_arrays",
    "scorer_for",
]

#: a column of a batch: an Array on Spark, a ChunkedArray on DuckDB
Column = pa.Array | pa.ChunkedArray

#: used when LEADSCORE_PII_SALT is unset (the build warns): set your own salt
DEFAULT_PII_SALT = "leadscore-default-salt"


def features_to_matrix(
    features: pa.Array | pa.ChunkedArray, n_features: int
) -> tuple[np.ndarray, np.ndarray]:
    """An (n, n_features) float matrix from a list<double> column, and the mask of NULL lists.

    NULL elements become NaN; a NULL list becomes a row of NaN (masked).
    """
    if isinstance(features, pa.ChunkedArray):
        features = features.combine_chunks()
    n = len(features)
    is_null = features.is_null().to_numpy(zero_copy_only=False)
    lengths = pc.list_value_length(features).to_numpy(zero_copy_only=False)
    valid_lengths = lengths[~is_null]
    if np.any(valid_lengths != n_features):
        bad = int(valid_lengths[valid_lengths != n_features][0])
        raise ValueError(
            f"leadscore_score got a feature list of length {bad}, the model expects {n_features}"
        )
    if not is_null.any():
        # the usual batch: the list values are the matrix, row after row, with no copy here
        flat = features.flatten().to_numpy(zero_copy_only=False)
        return flat.astype(np.float64, copy=False).reshape(n, n_features), is_null
    matrix = np.full((n, n_features), np.nan, dtype=np.float64)
    if (~is_null).any():
        flat = features.flatten().to_numpy(zero_copy_only=False).astype(np.float64, copy=False)
        matrix[~is_null] = flat.reshape(-1, n_features)
    return matrix, is_null


def scorer_for(version: pa.ChunkedArray | pa.Array, root: Path) -> Scorer:
    """The scorer of the one model version a batch names (the champion when it names none)."""
    values = [v for v in pc.unique(version).to_pylist() if v]
    if len(values) > 1:
        raise ValueError("leadscore_score takes one model version per call site")
    return get_scorer(values[0] if values else None, root)


def model_info(version: str | None, root: Path) -> str:
    """JSON describing a version (the champion when empty), or the error that prevents it."""
    try:
        scorer = get_scorer(version or None, root)
    except ModelError as exc:
        return json.dumps({"error": str(exc)})
    meta = scorer.metadata
    return json.dumps(
        {
            "version": scorer.version,
            "features": meta["features"],
            "feature_schema_hash": meta["feature_schema_hash"],
            "base_value": meta.get("base_value"),
            "reference_cutoffs": meta.get("training_window", {}).get("test", {}).get("cutoffs", []),
        }
    )


def explain_arrays(
    root: Path,
    version: pa.Array | pa.ChunkedArray,
    features: pa.Array | pa.ChunkedArray,
    categories: pa.Array | pa.ChunkedArray,
    contributions: pa.Array | pa.ChunkedArray,
    templates: pa.Array | pa.ChunkedArray,
    attributes: pa.Array | pa.ChunkedArray,
) -> pa.Array:
    """``{top_factors, top_reasons}`` per row (leadscore_explain, on DuckDB and on Spark)."""
    from leadscore.reasons import explain_batch, parse_templates

    scorer = scorer_for(version, root)
    spec = scorer.metadata["features"]
    template_text = next((t for t in templates.to_pylist() if t), None)
    declared = next((a for a in attributes.to_pylist() if a), None) or []
    factors, reasons = explain_batch(
        [f["name"] for f in spec],
        [f["kind"] for f in spec],
        features.to_pylist(),
        categories.to_pylist(),
        contributions.to_pylist(),
        parse_templates(template_text),
        frozenset(declared),
    )
    return pa.StructArray.from_arrays(
        [pa.array(factors, type=pa.string()), pa.array(reasons, type=pa.string())],
        names=["top_factors", "top_reasons"],
    )


def score_arrays(root: Path, version: pa.Array, features: pa.Array) -> pa.Array:
    """Calibrated probabilities of a batch of feature lists (NULL for a NULL list)."""
    scorer = scorer_for(version, root)
    matrix, is_null = features_to_matrix(features, scorer.n_features)
    return pa.array(scorer.predict_proba(matrix), mask=is_null, type=pa.float64())


def contribution_arrays(root: Path, version: pa.Array, features: pa.Array) -> pa.Array:
    """TreeSHAP contributions of a batch (one list per row, the base value last)."""
    scorer = scorer_for(version, root)
    matrix, is_null = features_to_matrix(features, scorer.n_features)
    values = scorer.contributions(matrix)
    width = scorer.n_features + 1
    offsets = pa.array(np.arange(0, (len(values) + 1) * width, width, dtype=np.int32))
    flat = pa.array(values.reshape(-1), type=pa.float64())
    return pa.ListArray.from_arrays(offsets, flat, mask=pa.array(is_null))


def model_functions(root: Path) -> dict[str, Callable[..., Any]]:
    """leadscore_score, leadscore_contributions, leadscore_explain and leadscore_model_info as
    Python functions of the models under root: the same ones are registered on DuckDB (register)
    and on Spark (leadscore.spark.register_functions), which differ only in how they declare
    the SQL types."""

    def score(version: Column, features: Column) -> pa.Array:
        return score_arrays(root, version, features)

    def contributions(version: Column, features: Column) -> pa.Array:
        return contribution_arrays(root, version, features)

    def explain(
        version: Column,
        features: Column,
        categories: Column,
        contributions: Column,
        templates: Column,
        attributes: Column,
    ) -> pa.Array:
        return explain_arrays(
            root, version, features, categories, contributions, templates, attributes
        )

    def info(version: str | None) -> str:
        return model_info(version, root)

    return {
        "leadscore_score": score,
        "leadscore_contributions": contributions,
        "leadscore_explain": explain,
        "leadscore_model_info": info,
    }


def register(connection: duckdb.DuckDBPyConnection, root: Path) -> None:
    """Register the leadscore functions on a DuckDB connection."""
    varchar = duckdb.sqltype("VARCHAR")
    double = duckdb.sqltype("DOUBLE")
    double_list = duckdb.sqltype("DOUBLE[]")
    varchars = duckdb.sqltype("VARCHAR[]")
    reasons = duckdb.sqltype("STRUCT(top_factors VARCHAR, top_reasons VARCHAR)")

    functions = model_functions(root)

    def pii_salt() -> str:
        return os.environ.get("LEADSCORE_PII_SALT", DEFAULT_PII_SALT)

    def replace_file(source: str, target: str) -> bool:
        os.replace(source, target)
        return True

    def prepare_dir(path: str) -> str:
        folder = Path(path)
        folder.mkdir(parents=True, exist_ok=True)
        for stale in folder.glob(".*.tmp"):
            stale.unlink()
        return str(folder.resolve())

    for name, parameters, returns in (
        ("leadscore_score", [varchar, double_list], double),
        ("leadscore_contributions", [varchar, double_list], double_list),
        (
            "leadscore_explain",
            [varchar, double_list, varchars, double_list, varchar, varchars],
            reasons,
        ),
    ):
        connection.create_function(
            name, functions[name], parameters, returns, type="arrow", null_handling="special"
        )
    connection.create_function(
        "leadscore_model_info",
        functions["leadscore_model_info"],
        [varchar],
        varchar,
        null_handling="special",
        side_effects=True,
    )
    connection.create_function("leadscore_pii_salt", pii_salt, [], varchar)
    connection.create_function(
        "leadscore_replace_file",
        replace_file,
        [varchar, varchar],
        duckdb.sqltype("BOOLEAN"),
        side_effects=True,
    )
    connection.create_function(
        "leadscore_prepare_dir", prepare_dir, [varchar], varchar, side_effects=True
    )
