"""Train, calibrate, export and publish a lead-scoring model from ``lead_training_set``.

The steps are small functions (arrays in, arrays out); ``train_model`` strings them together
and does the I/O at the edges: it reads the warehouse, writes ``artifacts/models/<version>/``
only after the parity gate passes, then records the version in the warehouse registry.
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
from sklearn.model_selection import StratifiedKFold, train_test_split

from leadscore.artifacts import (
    feature_schema_hash,
    file_sha256,
    set_champion,
    write_json_atomic,
)
from leadscore.calibration import apply_calibration, fit_isotonic, fit_platt
from leadscore.config import (
    LABEL_COLUMN,
    artifacts_dir,
    dbt_vars,
    models_dir,
    non_feature_columns,
    truth_dir,
    warehouse_path,
)
from leadscore.export import check_parity, floor_thresholds_to_float32, golden_rows, to_onnx
from leadscore.metrics import evaluate, reliability_bins
from leadscore.registry import record_model

__all__ = [
    "FOLDS",
    "TrainConfig",
    "TrainingError",
    "assign_folds",
    "build_vocabularies",
    "encode_features",
    "feature_spec",
    "train_model",
]

FOLDS = ("train", "validation", "calibration", "test")
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


# --------------------------------------------------------------------------- splitting


def assign_folds(frame: pd.DataFrame, seed: int = 42) -> tuple[pd.Series, str]:
    """Fold per row, by cutoff (oldest -> train, newest -> test); stratified when no time."""
    cutoffs = np.sort(frame["as_of"].unique())
    if len(cutoffs) == 1:
        index = np.arange(len(frame))
        y = frame[LABEL_COLUMN].to_numpy()
        rest, test = train_test_split(index, test_size=0.15, stratify=y, random_state=seed)
        train_valid, calib = train_test_split(
            rest, test_size=0.12, stratify=y[rest], random_state=seed
        )
        train, valid = train_test_split(
            train_valid, test_size=0.15, stratify=y[train_valid], random_state=seed
        )
        folds = np.empty(len(frame), dtype=object)
        for name, rows in zip(FOLDS, (train, valid, calib, test), strict=True):
            folds[rows] = name
        return pd.Series(folds, index=frame.index), "stratified"
    if len(cutoffs) < 4:
        raise TrainingError(
            f"lead_training_set has {len(cutoffs)} cutoffs; a time split needs at least 4 "
            "(train, validation, calibration, test). Use a longer history, or lower "
            "label_window_days in dbt_project.yml, then rebuild: dbt build --exclude tag:scoring"
        )
    n = len(cutoffs)
    # one cutoff each for validation, calibration and test (more for long histories): the
    # newest cutoffs hold the most leads, and the rest trains
    k = max(1, n // 10)
    test = cutoffs[n - k :]
    calib = cutoffs[n - 2 * k : n - k]
    valid = cutoffs[n - 3 * k : n - 2 * k]
    lookup = {c: "train" for c in cutoffs}
    lookup.update({c: "validation" for c in valid})
    lookup.update({c: "calibration" for c in calib})
    lookup.update({c: "test" for c in test})
    return frame["as_of"].map(lookup), "time"


def check_folds(y: np.ndarray, folds: pd.Series, min_rows: int) -> None:
    for name in FOLDS:
        mask = (folds == name).to_numpy()
        labels = y[mask]
        if mask.sum() < min_rows:
            raise TrainingError(
                f"The {name} fold has {int(mask.sum())} rows, fewer than {min_rows}. "
                "Train on more leads or a longer history (or lower --min-fold-rows)."
            )
        if len(np.unique(labels)) < 2:
            raise TrainingError(
                f"The {name} fold holds only label {int(labels[0])}: a model cannot learn or be "
                "evaluated without both converted and unconverted leads. Check the conversions "
                "input and label_window_days."
            )


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
    x_train: np.ndarray,
    y_train: np.ndarray,
    x_valid: np.ndarray,
    y_valid: np.ndarray,
    names: list[str],
    config: TrainConfig,
) -> lgb.Booster:
    """Boost on the train fold until the validation fold stops improving."""
    params = booster_params(config)
    train = lgb.Dataset(x_train.astype(np.float64), y_train, feature_name=names, free_raw_data=True)
    valid = lgb.Dataset(x_valid.astype(np.float64), y_valid, reference=train)
    return lgb.train(
        params,
        train,
        num_boost_round=config.num_boost_round,
        valid_sets=[valid],
        valid_names=["validation"],
        callbacks=[
            lgb.early_stopping(config.early_stopping_rounds, verbose=False),
            lgb.log_evaluation(period=100),
        ],
    )


def choose_calibration(
    raw: np.ndarray, y: np.ndarray, seed: int
) -> tuple[dict[str, Any], dict[str, float]]:
    """Fit Platt and isotonic; keep the one with the lower out-of-fold Brier score.

    Both are judged by 5-fold cross-validation inside the calibration fold (isotonic would
    always win in-sample), then the winner is refitted on the whole fold.
    """
    scores = {"platt": [], "isotonic": []}
    splitter = StratifiedKFold(n_splits=5, shuffle=True, random_state=seed)
    for fit_index, score_index in splitter.split(raw, y):
        for name, fit in (("platt", fit_platt), ("isotonic", fit_isotonic)):
            calibration = fit(raw[fit_index], y[fit_index])
            p = apply_calibration(calibration, raw[score_index])
            scores[name].append(float(np.mean((p - y[score_index]) ** 2)))
    brier = {name: float(np.mean(values)) for name, values in scores.items()}
    best = min(brier, key=brier.get)
    calibration = (fit_platt if best == "platt" else fit_isotonic)(raw, y)
    return calibration, brier


def reference_distribution(
    x: np.ndarray, spec: list[dict[str, Any]], vocabularies: dict[str, list[str]], bins: int = 10
) -> list[dict[str, Any]]:
    """Per feature: bin edges and the training share in each bin (drift is measured against it).

    Edges are quantiles of the training fold; bin i holds lower < value <= upper; NULLs are a
    bin of their own. Categorical features bin by vocabulary code (unknown = -1).
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
        reference.append({"name": feature["name"], "edges": edges, **bin_shares(column, edges)})
    return reference


def bin_shares(values: np.ndarray, edges: list[float]) -> dict[str, Any]:
    """Shares per bin (values beyond the outer edges fall into the outer bins) and of NULL."""
    values = np.asarray(values, dtype=np.float64)
    missing = np.isnan(values)
    n = len(values)
    if len(edges) < 2:
        return {
            "shares": [float((~missing).sum() / n)] if n else [],
            "null_share": float(missing.mean()) if n else 0.0,
        }
    inner = np.asarray(edges[1:-1])
    index = np.searchsorted(inner, values[~missing], side="left")
    counts = np.bincount(index, minlength=len(edges) - 1)
    return {"shares": (counts / n).tolist(), "null_share": float(missing.sum() / n)}


# --------------------------------------------------------------------------- baselines


def oracle_auc(frame: pd.DataFrame, mask: np.ndarray) -> float | None:
    """AUC of the generator's true probabilities on the same rows, when they exist."""
    path = truth_dir() / "true_probability.parquet"
    if not path.is_file():
        return None
    rows = frame.loc[mask, ["lead_id", "as_of", LABEL_COLUMN]]
    con = duckdb.connect()
    try:
        con.register("rows_", rows)
        joined = con.execute(
            f"""
            select r.{LABEL_COLUMN} as y, t.true_probability as p
            from rows_ as r
            join read_parquet('{path}') as t
              on t.lead_id = r.lead_id and t.cutoff = r.as_of
            """
        ).df()
    finally:
        con.close()
    if len(joined) < 0.9 * len(rows) or joined["y"].nunique() < 2:
        return None
    from sklearn.metrics import roc_auc_score

    return float(roc_auc_score(joined["y"], joined["p"]))


# --------------------------------------------------------------------------- the run


def _data_hash(frame: pd.DataFrame) -> str:
    hashed = pd.util.hash_pandas_object(frame, index=False).to_numpy()
    return hashlib.sha256(hashed.tobytes()).hexdigest()[:16]


def _new_version(root: Path, requested: str | None) -> str:
    if requested:
        if (models_dir(root) / requested).exists():
            raise TrainingError(f"Model version {requested} already exists in {models_dir(root)}.")
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


def train_model(config: TrainConfig) -> dict[str, Any]:
    """Run training end to end; returns the metadata of the published version.

    Nothing is written to the artifacts folder or the registry unless every check passes.
    """
    started = time.perf_counter()
    log(f"reading lead_training_set from {config.warehouse}")
    frame = load_training_set(config.warehouse)
    if frame.empty:
        raise TrainingError(
            "lead_training_set is empty: no lead was eligible at any cutoff. Check that leads "
            "have created_at values older than label_window_days and rebuild the features."
        )
    if LABEL_COLUMN not in frame.columns:
        raise TrainingError("lead_training_set has no label column; rebuild it with dbt build.")
    y_all = frame[LABEL_COLUMN].astype(int).to_numpy()
    if len(np.unique(y_all)) < 2:
        raise TrainingError(
            f"lead_training_set holds only label {y_all[0]} ({len(y_all)} rows): no lead "
            "converted (or every lead did). Check the conversions input / label column."
        )
    spec = feature_spec(frame)
    names = [f["name"] for f in spec]
    folds, split_kind = assign_folds(frame, config.seed)
    if split_kind == "stratified":
        log("no timestamps (one cutoff): falling back to a stratified random split")
    check_folds(y_all, folds, config.min_fold_rows)
    masks = {name: (folds == name).to_numpy() for name in FOLDS}
    window = {
        name: {
            "rows": int(masks[name].sum()),
            "positive_rate": float(y_all[masks[name]].mean()),
            "cutoffs": sorted({str(c) for c in frame.loc[masks[name], "as_of"]}),
        }
        for name in FOLDS
    }
    log(
        f"{len(frame):,} rows, {len(spec)} features; split by {split_kind}: "
        + ", ".join(f"{n} {window[n]['rows']:,}" for n in FOLDS)
    )

    vocabularies = build_vocabularies(
        frame.loc[masks["train"]],
        y_all[masks["train"]],
        spec,
        config.min_category_count,
        config.max_categories,
    )
    x_all = encode_features(frame, spec, vocabularies)
    x = {name: x_all[masks[name]] for name in FOLDS}
    y = {name: y_all[masks[name]] for name in FOLDS}

    log("training LightGBM (early stopping on the validation fold)")
    booster = fit_booster(x["train"], y["train"], x["validation"], y["validation"], names, config)
    best_iteration = booster.best_iteration or booster.current_iteration()
    log(f"best iteration {best_iteration}")
    if config.refit:
        # the validation fold has done its job (choosing the number of trees): learn from it too
        log("refitting on train + validation with that many trees")
        both = masks["train"] | masks["validation"]
        booster = lgb.train(
            {k: v for k, v in booster_params(config).items() if k != "metric"},
            lgb.Dataset(x_all[both].astype(np.float64), y_all[both], feature_name=names),
            num_boost_round=best_iteration,
        )
    else:
        booster = lgb.Booster(model_str=booster.model_to_string(num_iteration=best_iteration))
    served = floor_thresholds_to_float32(booster) if config.floor_thresholds else booster

    log("exporting to ONNX and checking parity with LightGBM")
    model = to_onnx(served, len(names))
    categorical_index = [j for j, f in enumerate(spec) if f["kind"] == "categorical"]
    with warnings.catch_warnings():  # an all-NULL feature has no median: use 0
        warnings.simplefilter("ignore", RuntimeWarning)
        base_row = np.nan_to_num(np.nanmedian(x["test"], axis=0), nan=0.0)
    rows = golden_rows(served, base_row, categorical_index)
    rows["test"] = x["test"]
    parity = check_parity(booster, model, rows, config.parity_tolerance)
    log(parity.summary())
    if not parity.passed:
        raise TrainingError(
            "The ONNX export does not reproduce LightGBM within "
            f"{config.parity_tolerance:g}: {parity.summary()}. The model was not published."
        )

    from leadscore.export import onnx_probabilities

    raw = {name: onnx_probabilities(model, x[name]) for name in ("calibration", "test")}
    calibration, calibration_brier = choose_calibration(
        raw["calibration"], y["calibration"], config.seed
    )
    log(
        f"calibration: {calibration['method']} (out-of-fold Brier platt "
        f"{calibration_brier['platt']:.5f}, isotonic {calibration_brier['isotonic']:.5f})"
    )
    tiers = dict(dbt_vars().get("tier_thresholds") or DEFAULT_TIERS)
    p_test = apply_calibration(calibration, raw["test"])
    metrics: dict[str, Any] = {
        "test": evaluate(y["test"], p_test, tiers),
        "test_uncalibrated": evaluate(y["test"], raw["test"], tiers),
        "test_reliability": reliability_bins(y["test"], p_test),
        "calibration_choice_brier": calibration_brier,
        "split": split_kind,
    }
    if "rule_based_score" in frame.columns:
        rule = frame.loc[masks["test"], "rule_based_score"].astype(float).to_numpy()
        metrics["rule_based"] = evaluate(y["test"], (rule - rule.min()) / (np.ptp(rule) or 1.0))
        metrics["rule_based"] = {
            k: metrics["rule_based"][k] for k in ("auc", "pr_auc", "top_decile_lift")
        }
    oracle = oracle_auc(frame, masks["test"])
    if oracle is not None:
        metrics["oracle_auc"] = oracle
        metrics["auc_over_oracle"] = metrics["test"]["auc"] / oracle
    t = metrics["test"]
    log(
        f"test: AUC {t['auc']:.4f}, PR-AUC {t['pr_auc']:.4f}, Brier {t['brier']:.5f}, "
        f"ECE {t['ece']:.4f}, top-decile lift {t['top_decile_lift']:.2f}"
        + (
            f"; rule-based AUC {metrics['rule_based']['auc']:.4f}"
            if "rule_based" in metrics
            else ""
        )
        + (f"; oracle AUC {oracle:.4f}" if oracle is not None else "")
    )

    sample = x["test"][:5000].astype(np.float64)  # mean |SHAP| needs no more rows than this
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
    for j, feature in enumerate(spec):
        feature["missing_rate_train"] = float(np.isnan(x["train"][:, j]).mean())
        if feature["kind"] == "categorical":
            feature["vocabulary"] = vocabularies[feature["name"]]

    version = _new_version(config.artifacts, config.version)
    metadata: dict[str, Any] = {
        "version": version,
        "created_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "features": spec,
        "feature_schema_hash": feature_schema_hash(spec),
        "unknown_category_code": -1,
        "calibration": calibration,
        "base_value": float(contributions[0, -1]) if len(contributions) else None,
        "metrics": metrics,
        "tier_thresholds": tiers,
        "training_window": window,
        "label_window_days": int(dbt_vars().get("label_window_days", 90)),
        "training_data_hash": _data_hash(frame),
        "training_rows": len(frame),
        "best_iteration": best_iteration,
        "params": {k: v for k, v in asdict(config).items() if k not in ("warehouse", "artifacts")},
        "parity": {
            "max_abs_diff": parity.max_abs_diff,
            "rows": parity.rows,
            "tolerance": parity.tolerance,
        },
        "feature_importance": importance,
        "reference": {
            # the newest fold looks most like the leads scored today
            "features": reference_distribution(x["test"], spec, vocabularies),
            "score_edges": np.quantile(p_test, np.linspace(0, 1, 11)).tolist(),
        },
        "libraries": _library_versions(),
        "platform": platform.platform(),
    }
    metadata["reference"]["score"] = bin_shares(p_test, metadata["reference"]["score_edges"])

    target = models_dir(config.artifacts) / version
    staging = target.with_name(f".{version}.partial")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    (staging / "model.onnx").write_bytes(model.SerializeToString())
    served.save_model(str(staging / "model.lgbm.txt"))
    metadata["onnx_sha256"] = file_sha256(staging / "model.onnx")
    metadata["lightgbm_sha256"] = file_sha256(staging / "model.lgbm.txt")
    write_json_atomic(staging / "metadata.json", metadata)
    os.replace(staging, target)  # the version appears whole or not at all
    log(f"wrote {target}")

    if config.promote:
        set_champion(version, config.artifacts)
        log(f"{version} is now the champion")
    record_model(config.warehouse, metadata, target, config.artifacts)
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
