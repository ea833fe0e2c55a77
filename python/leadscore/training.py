"""Train, calibrate, export and publish a lead-scoring model from ``lead_training_set``.

``train_model`` runs the steps in order, each a small function: load the training set, assign
purged walk-forward folds (leadscore.folds), fit LightGBM, calibrate, export ONNX behind the
parity gate, evaluate (new vs established leads with baselines, leadscore.evaluation, and a
rolling-origin backtest), then publish: write ``artifacts/models/<version>/``, record it in the
warehouse registry, and only then make it the champion.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import shutil
import sys
import time
import warnings
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import duckdb
import lightgbm as lgb
import numpy as np
import pandas as pd

from leadscore.artifacts import (
    feature_schema_hash,
    file_sha256,
    set_champion,
    write_json_atomic,
)
from leadscore.calibration import apply_calibration, choose_calibration
from leadscore.config import (
    LABEL_COLUMN,
    artifacts_dir,
    dbt_vars,
    models_dir,
    non_feature_columns,
    warehouse_path,
)
from leadscore.evaluation import (
    LogisticBaseline,
    feature_directions,
    oracle_rows,
    segment_masks,
    segment_report,
    warnings_for,
)
from leadscore.export import (
    check_parity,
    floor_thresholds_to_float32,
    golden_rows,
    onnx_probabilities,
    to_onnx,
)
from leadscore.folds import (
    FOLDS,
    FoldError,
    assign_folds,
    calibration_groups,
    check_folds,
    test_period,
)
from leadscore.metrics import (
    calibration_in_the_large,
    evaluate,
    reliability_bins,
    worst_bin,
    worst_bin_gap,
)
from leadscore.registry import record_model, sync_registry

__all__ = [
    "FOLDS",
    "TrainConfig",
    "TrainingError",
    "assign_folds",
    "backtest",
    "build_vocabularies",
    "choose_calibration",
    "encode_features",
    "feature_spec",
    "rare_values",
    "train_model",
]

DEFAULT_TIERS = {"A": 0.5, "B": 0.25, "C": 0.1}


class TrainingError(RuntimeError):
    """Training cannot go on; the message says what is wrong and what to do."""


@dataclass
class TrainConfig:
    """Knobs of one training run (the CLI flags of ``python python/train.py``)."""

    warehouse: Path = field(default_factory=warehouse_path)
    artifacts: Path = field(default_factory=artifacts_dir)
    num_boost_round: int = 2000
    num_leaves: int = 7
    learning_rate: float = 0.1
    min_data_in_leaf: int = 200
    refit: bool = True
    early_stopping_rounds: int = 100
    seed: int = 42
    min_fold_rows: int = 100
    min_category_count: int = 10
    max_categories: int = 200
    parity_tolerance: float = 1e-5
    promote: bool = True
    floor_thresholds: bool = True
    version: str | None = None
    threads: int = 0  # 0: LightGBM's default (all cores)
    test_days: int = 60  # the test period: the last this many days of cutoffs
    backtest_periods: int = 3  # earlier test periods, each trained on what came before (0: off)
    backtest_trees: int = 300  # at most this many boosting rounds per backtest model
    embargo_days: int | None = None  # default: var embargo_days in dbt_project.yml


def log(message: str) -> None:
    stamp = datetime.now().strftime("%H:%M:%S")
    print(f"[{stamp}] {message}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------- reading


def load_training_set(warehouse: Path) -> pd.DataFrame:
    if not warehouse.exists():
        raise TrainingError(
            f"Warehouse {warehouse} does not exist. Build the features first: "
            "dbt build --exclude tag:scoring (or make demo)."
        )
    try:
        con = duckdb.connect(str(warehouse), read_only=True)
    except duckdb.IOException as exc:
        raise TrainingError(
            f"Cannot open {warehouse}: {exc}. Another process (a running dbt build?) holds it; "
            "wait for it to finish and retry."
        ) from exc
    try:
        exists = con.execute(
            "select count(*) from information_schema.tables where table_name = 'lead_training_set'"
        ).fetchone()[0]
        if not exists:
            raise TrainingError(
                f"{warehouse} has no lead_training_set table. Build it first: "
                "dbt build --exclude tag:scoring (or make demo)."
            )
        return con.execute("select * from lead_training_set order by as_of, lead_id").df()
    finally:
        con.close()


def feature_spec(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Model inputs in table order: every column but keys/labels; text columns are categorical."""
    spec = []
    skip = non_feature_columns()
    for name in frame.columns:
        if name in skip:
            continue
        dtype = frame[name].dtype
        is_text = pd.api.types.is_string_dtype(dtype) or pd.api.types.is_object_dtype(dtype)
        spec.append({"name": name, "kind": "categorical" if is_text else "numeric"})
    return spec


# --------------------------------------------------------------------------- encoding


def build_vocabularies(
    frame: pd.DataFrame, y: np.ndarray, spec: list[dict[str, Any]], min_count: int, max_size: int
) -> dict[str, list[str]]:
    """Per categorical feature: categories seen at least min_count times, by conversion rate.

    Ordering by the training conversion rate lets numeric splits on the codes group similar
    categories; rarer categories share the unknown code (-1) with values never seen.
    """
    vocabularies = {}
    for feature in spec:
        if feature["kind"] != "categorical":
            continue
        column = frame[feature["name"]]
        stats = (
            pd.DataFrame({"value": column, "y": y})
            .dropna()
            .groupby("value")["y"]
            .agg(["count", "mean"])
        )
        stats = stats[stats["count"] >= min_count]
        stats = stats.sort_values("count", ascending=False).head(max_size)
        stats = stats.reset_index().sort_values(["mean", "value"])
        vocabularies[feature["name"]] = [str(v) for v in stats["value"]]
    return vocabularies


def rare_values(column: pd.Series, vocabulary: list[str], limit: int = 1000) -> list[str]:
    """Categories seen in training but too rarely to get a code of their own.

    Scoring gives them status 'rare_category' (seen, but the model cannot tell them apart)
    instead of 'unknown_category' (never seen). A column with more than ``limit`` of them is
    free text rather than a category: none are listed and they read as unknown.
    """
    seen = set(column.dropna().astype(str).unique()) - set(vocabulary)
    return sorted(seen) if len(seen) <= limit else []


def encode_features(
    frame: pd.DataFrame, spec: list[dict[str, Any]], vocabularies: dict[str, list[str]]
) -> np.ndarray:
    """The float32 model matrix: categories as vocabulary codes (-1 unknown, NaN missing).

    This mirrors leadscore_feature_vector() in SQL, which encodes with the same vocabularies.
    """
    columns = []
    for feature in spec:
        values = frame[feature["name"]]
        if feature["kind"] == "categorical":
            # a dict lookup, not pd.Categorical: pandas refuses values outside the categories
            codes = {value: code for code, value in enumerate(vocabularies[feature["name"]])}
            column = np.array(values.map(codes), dtype=np.float64)
            column[np.isnan(column)] = -1.0
            column[values.isna().to_numpy()] = np.nan
        else:
            column = pd.to_numeric(values, errors="coerce").astype(np.float64).to_numpy()
        columns.append(column)
    return np.column_stack(columns).astype(np.float32)


@dataclass
class FoldData:
    """Encoded rows of each fold: x (float32 matrix), y (labels) and w (sample weights)."""

    x: dict[str, np.ndarray]
    y: dict[str, np.ndarray]
    w: dict[str, np.ndarray]
    masks: dict[str, np.ndarray]


@dataclass
class Split:
    """Step 2's result: the folds of every row and the test period they were cut around."""

    folds: pd.Series
    kind: str
    test_start: pd.Timestamp | None
    test_end: pd.Timestamp | None
    window_days: int | None
    embargo_days: int


# --------------------------------------------------------------------------- fitting


def booster_params(config: TrainConfig) -> dict[str, Any]:
    params = {
        "objective": "binary",
        "metric": ["binary_logloss", "auc"],
        "learning_rate": config.learning_rate,
        "num_leaves": config.num_leaves,
        "min_data_in_leaf": config.min_data_in_leaf,
        "feature_fraction": 0.8,
        "bagging_fraction": 0.8,
        "bagging_freq": 1,
        "lambda_l2": 1.0,
        "seed": config.seed,
        "deterministic": True,
        "force_row_wise": True,
        "verbose": -1,
        "first_metric_only": True,
    }
    if config.threads:
        params["num_threads"] = config.threads
    return params


def fit_booster(
    data: FoldData, names: list[str], config: TrainConfig, *, rounds: int | None = None
) -> lgb.Booster:
    """Boost on the train fold (rows weighted) until the validation fold stops improving."""
    train = lgb.Dataset(
        data.x["train"].astype(np.float64),
        data.y["train"],
        weight=data.w["train"],
        feature_name=names,
        free_raw_data=True,
    )
    valid = lgb.Dataset(
        data.x["validation"].astype(np.float64),
        data.y["validation"],
        weight=data.w["validation"],
        reference=train,
    )
    return lgb.train(
        booster_params(config),
        train,
        num_boost_round=rounds or config.num_boost_round,
        valid_sets=[valid],
        valid_names=["validation"],
        callbacks=[
            lgb.early_stopping(config.early_stopping_rounds, verbose=False),
            lgb.log_evaluation(period=0 if rounds else 100),
        ],
    )


def refit_booster(
    booster: lgb.Booster, data: FoldData, names: list[str], config: TrainConfig
) -> tuple[lgb.Booster, int]:
    """The early-stopped model, or (refit) one grown on train + validation with as many trees.

    Both folds passed the purge, so the refit learns nothing from the test period.
    """
    best_iteration = booster.best_iteration or booster.current_iteration()
    log(f"best iteration {best_iteration}")
    if not config.refit:
        return lgb.Booster(model_str=booster.model_to_string(num_iteration=best_iteration)), (
            best_iteration
        )
    log("refitting on train + validation with that many trees")
    x = np.vstack([data.x["train"], data.x["validation"]]).astype(np.float64)
    y = np.concatenate([data.y["train"], data.y["validation"]])
    w = np.concatenate([data.w["train"], data.w["validation"]])
    refit = lgb.train(
        {k: v for k, v in booster_params(config).items() if k != "metric"},
        lgb.Dataset(x, y, weight=w, feature_name=names),
        num_boost_round=best_iteration,
    )
    return refit, best_iteration


def reference_distribution(
    x: np.ndarray,
    spec: list[dict[str, Any]],
    vocabularies: dict[str, list[str]],
    bins: int = 10,
    weight: np.ndarray | None = None,
) -> list[dict[str, Any]]:
    """Per feature: bin edges and the reference share in each bin (drift is measured against it).

    Edges are quantiles of the reference rows; bin i holds lower < value <= upper; NULLs are a
    bin of their own. Categorical features bin by vocabulary code (unknown = -1). Shares are
    weighted by `weight` (the rows' sample weights) when given.
    """
    reference = []
    for j, feature in enumerate(spec):
        column = x[:, j].astype(np.float64)
        present = column[~np.isnan(column)]
        if feature["kind"] == "categorical":
            edges = [c - 0.5 for c in range(-1, len(vocabularies[feature["name"]]) + 1)]
        elif len(present):
            edges = sorted(set(np.quantile(present, np.linspace(0, 1, bins + 1)).tolist()))
        else:
            edges = []
        reference.append(
            {"name": feature["name"], "edges": edges, **bin_shares(column, edges, weight)}
        )
    return reference


def reference_rows(frame: pd.DataFrame, data: FoldData, min_rows: int = 200) -> np.ndarray:
    """Which test rows drift is measured against: those that look like a scoring build's leads.

    A build scores every open lead at one date, as a calendar cutoff does; the early cutoffs
    (an hour, a day, a week after creation) hold only new leads, so a reference that kept them
    would report every feature of age and history as drifted on every build. All test rows
    when it has fewer than `min_rows` calendar (or flat) rows.
    """
    snapshot = is_snapshot(frame.loc[data.masks["test"]])
    return snapshot if snapshot.sum() >= min_rows else np.ones(len(snapshot), dtype=bool)


def is_snapshot(rows: pd.DataFrame) -> np.ndarray:
    """The rows that are snapshots of every open lead at a date (calendar cutoffs, or a flat
    export's one), not early cutoffs an hour to a week after a lead's creation."""
    if "cutoff_kind" not in rows:
        return np.ones(len(rows), dtype=bool)
    return (rows["cutoff_kind"] != "early").to_numpy()


def bin_shares(
    values: np.ndarray, edges: list[float], weight: np.ndarray | None = None
) -> dict[str, Any]:
    """Shares per bin (values beyond the outer edges fall into the outer bins) and of NULL,
    weighted by `weight` when given."""
    values = np.asarray(values, dtype=np.float64)
    weight = np.ones(len(values)) if weight is None else np.asarray(weight, dtype=np.float64)
    missing = np.isnan(values)
    total = float(weight.sum())
    if not len(values) or total <= 0:
        return {"shares": [], "null_share": 0.0}
    null_share = float(weight[missing].sum() / total)
    if len(edges) < 2:
        return {"shares": [1.0 - null_share], "null_share": null_share}
    inner = np.asarray(edges[1:-1])
    index = np.searchsorted(inner, values[~missing], side="left")
    counts = np.bincount(index, weights=weight[~missing], minlength=len(edges) - 1)
    return {"shares": (counts / total).tolist(), "null_share": null_share}


# --------------------------------------------------------------------------- the run


def _data_hash(frame: pd.DataFrame) -> str:
    hashed = pd.util.hash_pandas_object(frame, index=False).to_numpy()
    return hashlib.sha256(hashed.tobytes()).hexdigest()[:16]


def _new_version(root: Path, requested: str | None) -> str:
    if requested:
        if (models_dir(root) / requested).exists():
            raise TrainingError(
                f"Model version {requested} already exists in {models_dir(root)}. Pick another "
                "--version, or leave it out for a timestamped one."
            )
        return requested
    version = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    suffix = 1
    candidate = version
    while (models_dir(root) / candidate).exists():
        suffix += 1
        candidate = f"{version}-{suffix}"
    return candidate


def _library_versions() -> dict[str, str]:
    import onnx
    import onnxmltools
    import onnxruntime
    import sklearn

    return {
        "python": platform.python_version(),
        "lightgbm": lgb.__version__,
        "onnx": onnx.__version__,
        "onnxmltools": onnxmltools.__version__,
        "onnxruntime": onnxruntime.__version__,
        "scikit-learn": sklearn.__version__,
        "duckdb": duckdb.__version__,
        "numpy": np.__version__,
    }





def checked_training_set(frame: pd.DataFrame) -> np.ndarray:
    """Step 1: refuse an empty or one-class training set; returns the labels."""
    if frame.empty:
        raise TrainingError(
            "lead_training_set is empty: no lead was eligible at any cutoff. Check that leads "
            "have created_at values older than label_window_days and rebuild the features."
        )
    if LABEL_COLUMN not in frame.columns:
        raise TrainingError("lead_training_set has no label column; rebuild it with dbt build.")
    y = frame[LABEL_COLUMN].astype(int).to_numpy()
    if len(np.unique(y)) < 2:
        raise TrainingError(
            f"lead_training_set holds only label {y[0]} ({len(y)} rows): no lead "
            "converted (or every lead did). Check the conversions input / label column."
        )
    return y


def label_window_of(frame: pd.DataFrame) -> int | None:
    """The label window the training set was built with (its label_window_days column)."""
    if "label_window_days" not in frame.columns:
        raise TrainingError(
            "lead_training_set has no label_window_days column (an older leadscore built it), "
            "so the folds could not keep training labels out of the test period. Rebuild it: "
            "dbt build --select lead_training_set"
        )
    values = frame["label_window_days"].dropna().unique()
    return int(values[0]) if len(values) else None


def weights_of(frame: pd.DataFrame) -> np.ndarray:
    if "sample_weight" not in frame.columns:
        return np.ones(len(frame))
    return frame["sample_weight"].fillna(1.0).astype(np.float64).to_numpy()


def split_rows(
    frame: pd.DataFrame, y: np.ndarray, config: TrainConfig, test_end: pd.Timestamp | None = None
) -> Split:
    """Step 2: purged walk-forward folds around the test period ending at test_end."""
    window = label_window_of(frame)
    embargo = (
        config.embargo_days
        if config.embargo_days is not None
        else int(dbt_vars().get("embargo_days", 7))
    )
    try:
        folds, kind = assign_folds(
            frame,
            config.seed,
            window_days=window or 0,
            embargo_days=embargo,
            test_days=config.test_days,
            test_end=test_end,
        )
        check_folds(y, folds, config.min_fold_rows)
    except FoldError as exc:
        raise TrainingError(str(exc)) from exc
    start, end = (
        test_period(pd.to_datetime(frame["as_of"]), config.test_days, test_end)
        if kind == "time"
        else (None, None)
    )
    return Split(folds, kind, start, end, window, embargo)


def fold_window(frame: pd.DataFrame, y: np.ndarray, split: Split) -> dict[str, Any]:
    """Rows, positive rate and cutoffs of each fold, and how many rows the purge left out."""
    window: dict[str, Any] = {}
    for name in FOLDS:
        mask = (split.folds == name).to_numpy()
        rows = frame.loc[mask]
        calendar = rows.loc[is_snapshot(rows)]
        window[name] = {
            "rows": int(mask.sum()),
            "positive_rate": float(y[mask].mean()),
            "first_cutoff": str(rows["as_of"].min()),
            "last_cutoff": str(rows["as_of"].max()),
            # the calendar cutoffs (snapshots a scoring build can be re-run at)
            "cutoffs": sorted({str(c) for c in calendar["as_of"]}),
        }
    window["purged_rows"] = int((split.folds == "purged").sum())
    window["test_period"] = [str(split.test_start), str(split.test_end)]
    window["embargo_days"] = split.embargo_days
    return window


def encode_folds(
    frame: pd.DataFrame, y: np.ndarray, spec: list[dict[str, Any]], split: Split,
    config: TrainConfig,
) -> tuple[FoldData, dict[str, list[str]]]:  # fmt: skip
    """Vocabularies from the train fold, then the encoded rows of every fold."""
    masks = {name: (split.folds == name).to_numpy() for name in FOLDS}
    vocabularies = build_vocabularies(
        frame.loc[masks["train"]], y[masks["train"]], spec,
        config.min_category_count, config.max_categories,
    )  # fmt: skip
    x_all = encode_features(frame, spec, vocabularies)
    w_all = weights_of(frame)
    data = FoldData(
        x={name: x_all[masks[name]] for name in FOLDS},
        y={name: y[masks[name]] for name in FOLDS},
        w={name: w_all[masks[name]] for name in FOLDS},
        masks=masks,
    )
    return data, vocabularies


def calibrate(
    raw: np.ndarray,
    y: np.ndarray,
    as_of: pd.Series,
    split_kind: str,
    seed: int,
    weight: np.ndarray | None = None,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Step 5: Platt or isotonic, chosen by out-of-fold log loss across calibration periods."""
    groups = calibration_groups(as_of) if split_kind == "time" else None
    calibration, losses = choose_calibration(raw, y, seed, groups, weight)
    report = {
        "chosen": calibration["method"],
        "out_of_fold_log_loss": losses,
        "periods": len(np.unique(groups)) if groups is not None else 1,
        "calibration_fold_worst_bin_gap": worst_bin_gap(
            y, apply_calibration(calibration, raw), weight=weight
        ),
    }
    return calibration, report


def export_checked(
    booster: lgb.Booster, spec: list[dict[str, Any]], x_test: np.ndarray, config: TrainConfig
) -> tuple[lgb.Booster, Any, Any]:
    """Step 4: the served booster (thresholds floored), its ONNX export and the parity report.

    Raises TrainingError when ONNX does not reproduce LightGBM: nothing is published then.
    """
    served = floor_thresholds_to_float32(booster) if config.floor_thresholds else booster
    log("exporting to ONNX and checking parity with LightGBM")
    model = to_onnx(served, len(spec))
    categorical_index = [j for j, f in enumerate(spec) if f["kind"] == "categorical"]
    with warnings.catch_warnings():  # an all-NULL feature has no median: use 0
        warnings.simplefilter("ignore", RuntimeWarning)
        base_row = np.nan_to_num(np.nanmedian(x_test, axis=0), nan=0.0)
    rows = golden_rows(served, base_row, categorical_index)
    rows["test"] = x_test
    parity = check_parity(booster, model, rows, config.parity_tolerance)
    log(parity.summary())
    if not parity.passed:
        raise TrainingError(
            "The ONNX export does not reproduce LightGBM within "
            f"{config.parity_tolerance:g}: {parity.summary()}. The model was not published."
        )
    return served, model, parity


def evaluate_model(
    frame: pd.DataFrame,
    data: FoldData,
    split: Split,
    spec: list[dict[str, Any]],
    p_test: np.ndarray,
    raw_test: np.ndarray,
    config: TrainConfig,
    tiers: dict[str, float],
) -> dict[str, Any]:
    """Step 6: test metrics overall, for new and for established leads, beside baselines."""
    names = [f["name"] for f in spec]
    y_test, w_test = data.y["test"], data.w["test"]
    test_frame = frame.loc[data.masks["test"]].reset_index(drop=True)
    fit_x = np.vstack([data.x["train"], data.x["validation"]])
    fit_y = np.concatenate([data.y["train"], data.y["validation"]])
    fit_w = np.concatenate([data.w["train"], data.w["validation"]])
    log("fitting the logistic-regression baseline on the same rows")
    logistic = LogisticBaseline(spec, config.seed).fit(fit_x, fit_y, fit_w).predict(data.x["test"])
    direction = feature_directions(data.x["train"], data.y["train"], names)
    masks = segment_masks(test_frame, np.ones(len(test_frame), dtype=bool), split.test_start)
    segments = {
        name: segment_report(
            test_frame, mask, y_test, p_test, data.x["test"], names, direction, logistic,
            tiers, w_test,
        )
        for name, mask in masks.items()
        if mask.sum() and len(np.unique(y_test[mask])) == 2
    }
    metrics: dict[str, Any] = {
        "test": evaluate(y_test, p_test, tiers, w_test),
        "test_uncalibrated": evaluate(y_test, raw_test, tiers, w_test),
        "test_reliability": reliability_bins(y_test, p_test, weight=w_test),
        "test_worst_bin_gap": worst_bin_gap(y_test, p_test, weight=w_test),
        "test_worst_bin": worst_bin(y_test, p_test, weight=w_test),
        "test_mean_predicted": float(np.average(p_test, weights=w_test)),
        "test_calibration_in_the_large": calibration_in_the_large(y_test, p_test, w_test),
        "segments": segments,
        "split": split.kind,
    }
    truth = oracle_rows(test_frame, np.ones(len(test_frame), dtype=bool))
    if truth is not None:
        # the true probabilities are calibrated by construction: their worst bin gap on the same
        # rows is what chance alone gives at this many rows per bin
        metrics["oracle_test_worst_bin_gap"] = worst_bin_gap(truth[0], truth[1], weight=truth[2])
        metrics["oracle_test_calibration_in_the_large"] = calibration_in_the_large(*truth)
    all_rows = segments.get("all", {})
    metrics["rule_based"] = {"auc": all_rows.get("baselines", {}).get("rule_based_auc")}
    if "oracle_auc" in all_rows:
        metrics["oracle_auc"] = all_rows["oracle_auc"]
        metrics["auc_over_oracle"] = all_rows["auc_over_oracle"]
    warnings_ = warnings_for(segments) if segments else []
    warnings_ += calibration_warnings(
        metrics["test_worst_bin"], metrics["test_calibration_in_the_large"]
    )
    metrics["warnings"] = warnings_
    return metrics


WORST_BIN_GAP_LIMIT = 0.05  # a reliability bin of 100+ rows this far off: say so
LEVEL_SHIFT_Z = 3.0  # observed against expected conversions: beyond chance
LEVEL_SHIFT_RATIO = 0.15  # ... and at least this far from 1 in relative terms


def calibration_warnings(
    worst: dict[str, float] | None, level: dict[str, float]
) -> list[str]:
    """Plain words when the test period's probabilities are off, in a bin or as a whole.
    worst: the reliability bin furthest off (metrics.worst_bin), level: calibration in the large."""
    out = []
    ratio, z = level["observed_over_expected"], level["z"]
    if not np.isnan(z) and abs(z) >= LEVEL_SHIFT_Z and abs(ratio - 1.0) >= LEVEL_SHIFT_RATIO:
        more = "more" if ratio > 1 else "fewer"
        out.append(
            f"Calibration is off on the test period as a whole: {level['observed_rate']:.2%} "
            f"converted where the model predicted {level['mean_predicted']:.2%} "
            f"({abs(ratio - 1):.0%} {more} conversions than expected, z = {z:.1f}, not "
            "chance). Either the conversion rate has shifted since the calibration period or "
            "that period was unlike this one: retrain on recent data (a later as_of), read the "
            "earlier test periods of the backtest, and watch model_reliability after scoring."
        )
    gap = 0.0 if worst is None else abs(worst["observed_rate"] - worst["mean_predicted"])
    if worst is not None and gap > WORST_BIN_GAP_LIMIT:
        out.append(
            f"Calibration is off on the test period for the {worst['n']:,} rows scored "
            f"{worst['lower']:.0%}–{worst['upper']:.0%}: they were predicted "
            f"{worst['mean_predicted']:.1%} on average and {worst['observed_rate']:.1%} "
            f"converted ({gap:.3f} apart, more than {WORST_BIN_GAP_LIMIT}). Read the "
            "reliability table of the report, check model_reliability after scoring, and "
            "retrain on recent data if the gap persists."
        )
    return out


def log_metrics(metrics: dict[str, Any]) -> None:
    t = metrics["test"]
    log(
        f"test (all rows): AUC {t['auc']:.4f}, PR-AUC {t['pr_auc']:.4f}, Brier {t['brier']:.5f}, "
        f"ECE {t['ece']:.4f}, worst bin gap {_fmt(metrics['test_worst_bin_gap'])}"
    )
    for name, report in metrics["segments"].items():
        b = report["baselines"]
        log(
            f"  {name}: {report['model']['n']:,} rows, AUC {report['model']['auc']:.4f}; "
            f"lead age alone {_fmt(b.get('lead_age_auc'))}, rule-based "
            f"{_fmt(b.get('rule_based_auc'))}, logistic regression "
            f"{_fmt(b.get('logistic_regression_auc'))}"
            + (f", oracle {report['oracle_auc']:.4f}" if "oracle_auc" in report else "")
        )
    if "backtest" in metrics:
        summary = metrics["backtest"]["summary"]
        log(
            f"backtest over {metrics['backtest']['periods_evaluated']} periods: "
            + ", ".join(
                f"{k} {v['mean']:.4f} ± {v['std']:.4f}" for k, v in summary.items()
            )
        )
    for warning in metrics["warnings"]:
        log(f"WARNING: {warning}")


def _fmt(value: float | None) -> str:
    return "n/a" if value is None or np.isnan(value) else f"{value:.4f}"


def backtest(
    frame: pd.DataFrame, y: np.ndarray, spec: list[dict[str, Any]], config: TrainConfig
) -> dict[str, Any]:
    """Rolling origin: the last ``backtest_periods`` test periods, each trained (small model,
    purged folds, own vocabularies and calibration) only on what came before it."""
    names = [f["name"] for f in spec]
    end = pd.to_datetime(frame["as_of"]).max()
    periods = []
    small = TrainConfig(**{**asdict(config), "early_stopping_rounds": 30})
    for k in range(config.backtest_periods):
        test_end = end - pd.Timedelta(days=k * config.test_days)
        try:
            split = split_rows(frame, y, small, test_end)
        except TrainingError as exc:
            periods.append({"test_end": str(test_end), "skipped": str(exc)})
            break  # earlier periods have even less history
        data, _ = encode_folds(frame, y, spec, split, small)
        booster = fit_booster(data, names, small, rounds=config.backtest_trees)
        raw = {n: booster.predict(data.x[n].astype(np.float64)) for n in ("calibration", "test")}
        calibration, _ = calibrate(
            raw["calibration"], data.y["calibration"],
            frame.loc[data.masks["calibration"], "as_of"], split.kind, config.seed,
            data.w["calibration"],
        )  # fmt: skip
        p = apply_calibration(calibration, raw["test"])
        m = evaluate(data.y["test"], p, weight=data.w["test"])
        level = calibration_in_the_large(data.y["test"], p, data.w["test"])
        periods.append(
            {
                "test_period": [str(split.test_start), str(split.test_end)],
                "rows": len(p),
                **{key: m[key] for key in ("auc", "pr_auc", "brier", "ece")},
                **level,
            }
        )
        log(
            f"backtest period ending {test_end}: AUC {m['auc']:.4f}, ECE {m['ece']:.4f}, "
            f"converted {level['observed_rate']:.2%} where {level['mean_predicted']:.2%} "
            "was predicted"
        )
    done = [p for p in periods if "auc" in p]
    summary = {
        key: {
            "mean": float(np.mean([p[key] for p in done])),
            "std": float(np.std([p[key] for p in done])),
        }
        for key in ("auc", "pr_auc", "brier", "ece")
        if done
    }
    return {"periods": periods, "periods_evaluated": len(done), "summary": summary}


def explain(served: lgb.Booster, x_test: np.ndarray, names: list[str]) -> tuple[list, float | None]:
    """Gain, split count and mean |SHAP| per feature; the SHAP base value."""
    sample = x_test[:5000].astype(np.float64)  # mean |SHAP| needs no more rows than this
    contributions = served.predict(sample, pred_contrib=True)
    importance = [
        {
            "feature": name,
            "gain": float(gain),
            "splits": int(splits),
            "mean_abs_shap": float(np.mean(np.abs(contributions[:, j]))),
        }
        for j, (name, gain, splits) in enumerate(
            zip(
                names,
                served.feature_importance("gain"),
                served.feature_importance("split"),
                strict=True,
            )
        )
    ]
    return importance, float(contributions[0, -1]) if len(contributions) else None


def write_version(
    target: Path, model: Any, served: lgb.Booster, metadata: dict[str, Any]
) -> None:
    """Step 8a: the version folder appears whole or not at all."""
    staging = target.with_name(f".{target.name}.partial")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    (staging / "model.onnx").write_bytes(model.SerializeToString())
    served.save_model(str(staging / "model.lgbm.txt"))
    metadata["onnx_sha256"] = file_sha256(staging / "model.onnx")
    metadata["lightgbm_sha256"] = file_sha256(staging / "model.lgbm.txt")
    write_json_atomic(staging / "metadata.json", metadata)
    os.replace(staging, target)
    log(f"wrote {target}")


def publish(metadata: dict[str, Any], target: Path, config: TrainConfig) -> None:
    """Step 8b: record the version in the registry, then (and only then) make it the champion.

    A warehouse another process holds stops here with what to do: the version is on disk but
    neither recorded nor champion, so scoring keeps using the previous champion.
    """
    version = metadata["version"]
    try:
        record_model(config.warehouse, metadata, target, config.artifacts)
    except RuntimeError as exc:
        promote = f"leadscore promote {version}" if config.promote else "leadscore promote --sync"
        raise TrainingError(
            f"Model {version} was written to {target} but could not be recorded in the "
            f"registry of {config.warehouse} ({exc}); it is not the champion. When the other "
            f"process (a running dbt build?) has finished, run: {promote}"
        ) from exc
    if not config.promote:
        return
    set_champion(version, config.artifacts)
    log(f"{version} is now the champion")
    try:
        sync_registry(config.warehouse, config.artifacts)
    except RuntimeError as exc:
        raise TrainingError(
            f"Model {version} is recorded and is now the champion (the next scoring build uses "
            f"it), but the registry of {config.warehouse} could not mark it so ({exc}): its "
            "is_champion column still names the previous version. When the other process (a "
            "running dbt build?) has finished, run: leadscore promote --sync"
        ) from exc


def train_model(config: TrainConfig) -> dict[str, Any]:
    """Run training end to end; returns the metadata of the published version.

    The steps, in order: 1 load and check, 2 fold, 3 fit, 4 export and gate (ONNX must predict
    what LightGBM predicts), 5 calibrate, 6 evaluate, 7 describe, 8 publish (write the version
    folder, record it in the registry, then switch the champion). Calibration comes after the
    export because it is fitted on the probabilities the served ONNX model gives. Nothing is
    written to the artifacts folder or the registry unless every check passes.
    """
    started = time.perf_counter()
    log(f"reading lead_training_set from {config.warehouse}")
    frame = load_training_set(config.warehouse)  # 1. load
    y_all = checked_training_set(frame)
    spec = feature_spec(frame)
    names = [f["name"] for f in spec]
    split = split_rows(frame, y_all, config)  # 2. fold
    if split.kind == "stratified":
        log("no timestamps (one cutoff): falling back to a stratified random split")
    window = fold_window(frame, y_all, split)
    log(
        f"{len(frame):,} rows, {len(spec)} features; split by {split.kind}: "
        + ", ".join(f"{n} {window[n]['rows']:,}" for n in FOLDS)
        + f"; {window['purged_rows']:,} rows purged (label window reaches the test period)"
    )
    data, vocabularies = encode_folds(frame, y_all, spec, split, config)

    log("training LightGBM (early stopping on the validation fold)")  # 3. fit
    booster, best_iteration = refit_booster(fit_booster(data, names, config), data, names, config)
    served, model, parity = export_checked(booster, spec, data.x["test"], config)  # 4. export
    raw = {name: onnx_probabilities(model, data.x[name]) for name in ("calibration", "test")}
    calibration, calibration_report = calibrate(  # 5. calibrate (the served model's output)
        raw["calibration"], data.y["calibration"],
        frame.loc[data.masks["calibration"], "as_of"], split.kind, config.seed,
        data.w["calibration"],
    )  # fmt: skip
    log(
        f"calibration: {calibration['method']} (out-of-fold log loss over "
        f"{calibration_report['periods']} periods: "
        + ", ".join(f"{k} {v:.5f}" for k, v in calibration_report["out_of_fold_log_loss"].items())
        + ")"
    )
    tiers = dict(dbt_vars().get("tier_thresholds") or DEFAULT_TIERS)
    p_test = apply_calibration(calibration, raw["test"])
    metrics = evaluate_model(  # 6. evaluate
        frame, data, split, spec, p_test, raw["test"], config, tiers
    )
    metrics["calibration"] = calibration_report
    if split.kind == "time" and config.backtest_periods:
        metrics["backtest"] = backtest(frame, y_all, spec, config)
    log_metrics(metrics)

    importance, base_value = explain(served, data.x["test"], names)  # 7. describe
    for j, feature in enumerate(spec):
        feature["missing_rate_train"] = float(np.isnan(data.x["train"][:, j]).mean())
        if feature["kind"] == "categorical":
            feature["vocabulary"] = vocabularies[feature["name"]]
            feature["rare_values"] = rare_values(
                frame.loc[data.masks["train"], feature["name"]], feature["vocabulary"]
            )
    reference = reference_rows(frame, data)
    version = _new_version(config.artifacts, config.version)
    training_seconds = time.perf_counter() - started
    metadata: dict[str, Any] = {
        "version": version,
        "created_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "features": spec,
        "feature_schema_hash": feature_schema_hash(spec),
        "unknown_category_code": -1,
        "calibration": calibration,
        "base_value": base_value,
        "metrics": metrics,
        "tier_thresholds": tiers,
        "training_window": window,
        "label_window_days": split.window_days,
        "training_data_hash": _data_hash(frame),
        "training_rows": len(frame),
        "training_rows_by_kind": (
            frame["cutoff_kind"].value_counts().to_dict() if "cutoff_kind" in frame else {}
        ),
        "training_seconds": round(training_seconds, 1),
        "best_iteration": best_iteration,
        "params": {k: v for k, v in asdict(config).items() if k not in ("warehouse", "artifacts")},
        "parity": {
            "max_abs_diff": parity.max_abs_diff,
            "rows": parity.rows,
            "tolerance": parity.tolerance,
        },
        "feature_importance": importance,
        "reference": {
            # the newest fold's snapshots look most like the leads scored today
            "rows": int(reference.sum()),
            "features": reference_distribution(
                data.x["test"][reference], spec, vocabularies, weight=data.w["test"][reference]
            ),
            "score_edges": np.quantile(p_test[reference], np.linspace(0, 1, 11)).tolist(),
        },
        "libraries": _library_versions(),
        "platform": platform.platform(),
    }
    metadata["reference"]["score"] = bin_shares(
        p_test[reference], metadata["reference"]["score_edges"], data.w["test"][reference]
    )

    target = models_dir(config.artifacts) / version  # 8. publish
    write_version(target, model, served, metadata)
    publish(metadata, target, config)
    log(f"done in {time.perf_counter() - started:.1f}s")
    return metadata


def metadata_summary(metadata: dict[str, Any]) -> str:
    return json.dumps(
        {
            k: metadata["metrics"][k]
            for k in ("test", "rule_based", "oracle_auc")
            if k in metadata["metrics"]
        },
        indent=2,
        default=str,
    )
