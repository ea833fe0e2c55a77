"""What a model's test metrics mean: new vs established leads, with baselines on the same rows.

* **new leads**: created within the test period and scored at their early cutoffs (an hour,
  a day, a week after they arrived): the leads a sales team asks about;
* **established leads**: created before the test period, still open at a calendar cutoff in it.

Beside the model on each: lead age alone (``days_since_created``, in the direction the
training rows favour), the rule-based score, a logistic regression on the same features,
and, for generated data, the oracle (the true probability). ``warnings`` says in plain words
when one feature alone is as good as the model or new leads are ranked far worse.
"""

from __future__ import annotations

from typing import Any

import duckdb
import numpy as np
import pandas as pd

from leadscore.config import LABEL_COLUMN, truth_dir
from leadscore.metrics import auc, evaluate

__all__ = [
    "LogisticBaseline",
    "feature_alone_aucs",
    "oracle_auc",
    "oracle_rows",
    "segment_masks",
    "segment_report",
    "warnings_for",
]

NEW_LEAD_GAP = 0.10  # new-lead AUC this far below the overall one: say so
FEATURE_ALONE_GAP = 0.01  # one feature within this AUC of the model: say so


def segment_masks(frame: pd.DataFrame, test: np.ndarray, test_start: pd.Timestamp | None):
    """Masks of the test rows: all, new leads, established leads."""
    masks = {"all": test}
    if test_start is None or "cutoff_kind" not in frame.columns:
        return masks
    as_of = pd.to_datetime(frame["as_of"])
    created = as_of - pd.to_timedelta(frame["days_since_created"].astype(float), unit="D")
    # a second of slack: created_at is rebuilt from a rounded day count
    is_new = (created >= test_start - pd.Timedelta(seconds=1)).to_numpy()
    kind = frame["cutoff_kind"].to_numpy()
    masks["new_leads"] = test & is_new & (kind == "early")
    masks["established_leads"] = test & ~is_new & (kind == "calendar")
    return masks


class LogisticBaseline:
    """A logistic regression on the model's features: median-imputed, scaled numbers and
    one-hot categories (the same vocabulary codes the booster sees)."""

    def __init__(self, spec: list[dict[str, Any]], seed: int) -> None:
        from sklearn.compose import ColumnTransformer
        from sklearn.impute import SimpleImputer
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import OneHotEncoder, StandardScaler

        numeric = [j for j, f in enumerate(spec) if f["kind"] == "numeric"]
        categorical = [j for j, f in enumerate(spec) if f["kind"] == "categorical"]
        columns = ColumnTransformer(
            [
                (
                    "numeric",
                    make_pipeline(
                        SimpleImputer(
                            strategy="median", add_indicator=True, keep_empty_features=True
                        ),
                        StandardScaler(),
                    ),
                    numeric,
                ),
                (
                    "categorical",
                    make_pipeline(
                        SimpleImputer(strategy="constant", fill_value=-2.0),
                        OneHotEncoder(handle_unknown="ignore"),
                    ),
                    categorical,
                ),
            ]
        )
        self.model = make_pipeline(
            columns, LogisticRegression(C=1.0, max_iter=300, random_state=seed)
        )

    def fit(self, x: np.ndarray, y: np.ndarray, weight: np.ndarray) -> LogisticBaseline:
        x = np.clip(np.asarray(x, dtype=np.float64), -1e12, 1e12)
        self.model.fit(x, y, logisticregression__sample_weight=weight)
        return self

    def predict(self, x: np.ndarray) -> np.ndarray:
        x = np.clip(np.asarray(x, dtype=np.float64), -1e12, 1e12)
        return self.model.predict_proba(x)[:, 1]


def oracle_rows(
    frame: pd.DataFrame, mask: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """Labels, the generator's true probabilities and row weights of the masked rows, when the
    generator wrote them (demo data) for at least 90% of those rows."""
    path = truth_dir() / "true_probability.parquet"
    if not path.is_file() or not mask.any():
        return None
    rows = frame.loc[mask, ["lead_id", "as_of", LABEL_COLUMN]].assign(
        w=frame.loc[mask, "sample_weight"] if "sample_weight" in frame else 1.0
    )
    con = duckdb.connect()
    try:
        con.register("rows_", rows)
        joined = con.execute(
            f"""
            select r.{LABEL_COLUMN} as y, t.true_probability as p, r.w
            from rows_ as r
            join read_parquet('{path}') as t
              on t.lead_id = r.lead_id and t.cutoff = r.as_of
            """
        ).df()
    finally:
        con.close()
    if len(joined) < 0.9 * len(rows) or joined["y"].nunique() < 2:
        return None
    return joined["y"].to_numpy(), joined["p"].to_numpy(), joined["w"].to_numpy()


def oracle_auc(frame: pd.DataFrame, mask: np.ndarray) -> float | None:
    """AUC of the generator's true probabilities on the same rows (and row weights)."""
    truth = oracle_rows(frame, mask)
    return None if truth is None else auc(*truth)


def feature_alone_aucs(
    x: np.ndarray,
    y: np.ndarray,
    names: list[str],
    direction: dict[str, float],
    weight: np.ndarray | None = None,
) -> dict[str, float]:
    """AUC of each feature alone, in the direction it had on the training rows."""
    return {
        name: auc(y, direction.get(name, 1.0) * x[:, j].astype(np.float64), weight)
        for j, name in enumerate(names)
    }


def feature_directions(x: np.ndarray, y: np.ndarray, names: list[str]) -> dict[str, float]:
    """+1 where a higher value meant more conversions on these (training) rows, else -1."""
    out = {}
    for j, name in enumerate(names):
        value = auc(y, x[:, j].astype(np.float64))
        out[name] = -1.0 if value < 0.5 else 1.0
    return out


def segment_report(
    frame: pd.DataFrame,
    mask: np.ndarray,
    y: np.ndarray,
    p: np.ndarray,
    x: np.ndarray,
    names: list[str],
    direction: dict[str, float],
    logistic: np.ndarray | None,
    tiers: dict[str, float] | None = None,
    weight: np.ndarray | None = None,
) -> dict[str, Any]:
    """The model's metrics on one set of test rows, with every baseline on the same rows and
    the same row weights (``sample_weight``)."""
    rows = np.asarray(mask, dtype=bool)
    y_seg, p_seg = y[rows], p[rows]
    w_seg = None if weight is None else np.asarray(weight, dtype=np.float64)[rows]
    out: dict[str, Any] = {"model": evaluate(y_seg, p_seg, tiers, w_seg), "baselines": {}}
    baselines = out["baselines"]
    if "days_since_created" in names:
        age = x[rows, names.index("days_since_created")].astype(np.float64)
        baselines["lead_age_auc"] = auc(
            y_seg, direction.get("days_since_created", 1.0) * age, w_seg
        )
    if "rule_based_score" in frame.columns:
        rule = frame.loc[rows, "rule_based_score"].astype(float).to_numpy()
        baselines["rule_based_auc"] = auc(y_seg, rule, w_seg)
    if logistic is not None:
        baselines["logistic_regression_auc"] = auc(y_seg, logistic[rows], w_seg)
    alone = feature_alone_aucs(x[rows], y_seg, names, direction, w_seg)
    valid = {k: v for k, v in alone.items() if not np.isnan(v)}
    if valid:
        best = max(valid, key=valid.get)
        out["best_single_feature"] = {"feature": best, "auc": valid[best]}
    oracle = oracle_auc(frame, rows)
    if oracle is not None:
        out["oracle_auc"] = oracle
        out["auc_over_oracle"] = out["model"]["auc"] / oracle
    return out


def warnings_for(segments: dict[str, dict[str, Any]]) -> list[str]:
    """Plain-words warnings about what the test metrics hide."""
    warnings = []
    for name, report in segments.items():
        model_auc = report["model"]["auc"]
        best = report.get("best_single_feature")
        if best and not np.isnan(model_auc) and best["auc"] >= model_auc - FEATURE_ALONE_GAP:
            warnings.append(
                f"On {name.replace('_', ' ')} the feature {best['feature']} alone ranks as well "
                f"as the model (AUC {best['auc']:.3f} vs {model_auc:.3f}): the model adds "
                "nothing over it there."
            )
    overall = segments["all"]["model"]["auc"]
    new = segments.get("new_leads", {}).get("model", {}).get("auc", float("nan"))
    if not np.isnan(new) and new < overall - NEW_LEAD_GAP:
        warnings.append(
            f"New leads are ranked far worse than the test fold as a whole (AUC {new:.3f} vs "
            f"{overall:.3f}): the overall figure flatters the model on the leads a sales team "
            "asks about."
        )
    return warnings
