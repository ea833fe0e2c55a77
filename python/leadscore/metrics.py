"""Evaluation metrics for calibrated conversion probabilities (arrays in, numbers out)."""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.metrics import average_precision_score, brier_score_loss, log_loss, roc_auc_score

__all__ = [
    "auc",
    "evaluate",
    "expected_calibration_error",
    "reliability_bins",
    "top_decile_lift",
    "worst_bin_gap",
]


def reliability_bins(y: np.ndarray, p: np.ndarray, bins: int = 10) -> list[dict[str, float]]:
    """Predicted vs observed rate in equal-width probability bins."""
    edges = np.linspace(0.0, 1.0, bins + 1)
    index = np.clip(np.digitize(p, edges[1:-1], right=True), 0, bins - 1)
    rows = []
    for b in range(bins):
        mask = index == b
        if mask.any():
            rows.append(
                {
                    "bin": b,
                    "lower": float(edges[b]),
                    "upper": float(edges[b + 1]),
                    "n": int(mask.sum()),
                    "mean_predicted": float(p[mask].mean()),
                    "observed_rate": float(y[mask].mean()),
                }
            )
    return rows


def expected_calibration_error(y: np.ndarray, p: np.ndarray, bins: int = 10) -> float:
    """Share-weighted mean |observed - predicted| over equal-width bins."""
    n = len(y)
    return float(
        sum(
            r["n"] / n * abs(r["observed_rate"] - r["mean_predicted"])
            for r in reliability_bins(y, p, bins)
        )
    )


def worst_bin_gap(y: np.ndarray, p: np.ndarray, min_rows: int = 100) -> float | None:
    """Largest |observed - predicted| over reliability bins holding at least min_rows rows.

    ECE averages the gaps away; a model that says 0.44 where 0.34 convert in a crowded bin is
    wrong where it matters. None when no bin is that full.
    """
    gaps = [
        abs(r["observed_rate"] - r["mean_predicted"])
        for r in reliability_bins(np.asarray(y), np.asarray(p, dtype=np.float64))
        if r["n"] >= min_rows
    ]
    return float(max(gaps)) if gaps else None


def auc(y: np.ndarray, score: np.ndarray) -> float:
    """ROC AUC of any score (higher = more likely positive); NaN with a single class.

    Missing scores rank lowest, so a feature that is NULL for many rows can still be judged.
    """
    y = np.asarray(y, dtype=np.int64)
    score = np.asarray(score, dtype=np.float64)
    if len(np.unique(y)) < 2:
        return float("nan")
    if np.isnan(score).any():
        low = np.nanmin(score) - 1.0 if (~np.isnan(score)).any() else 0.0
        score = np.where(np.isnan(score), low, score)
    return float(roc_auc_score(y, score))


def top_decile_lift(y: np.ndarray, p: np.ndarray) -> float:
    """Conversion rate of the 10% highest-scored rows over the overall rate."""
    k = max(1, len(p) // 10)
    top = np.argsort(-p, kind="stable")[:k]
    base = y.mean()
    return float(y[top].mean() / base) if base > 0 else float("nan")


def evaluate(
    y: np.ndarray, p: np.ndarray, thresholds: dict[str, float] | None = None
) -> dict[str, Any]:
    """AUC-ROC, PR-AUC, Brier, log loss, ECE, top-decile lift and precision/recall per threshold."""
    y = np.asarray(y, dtype=np.int64)
    p = np.clip(np.asarray(p, dtype=np.float64), 0.0, 1.0)
    both = len(np.unique(y)) == 2
    out: dict[str, Any] = {
        "n": len(y),
        "positive_rate": float(y.mean()) if len(y) else float("nan"),
        "auc": auc(y, p),
        "pr_auc": float(average_precision_score(y, p)) if both else float("nan"),
        "brier": float(brier_score_loss(y, p)),
        "log_loss": float(log_loss(y, np.clip(p, 1e-7, 1 - 1e-7), labels=[0, 1])),
        "ece": expected_calibration_error(y, p),
        "top_decile_lift": top_decile_lift(y, p),
    }
    for name, threshold in (thresholds or {}).items():
        predicted = p >= threshold
        tp = int((predicted & (y == 1)).sum())
        precision = tp / predicted.sum() if predicted.sum() else float("nan")
        recall = tp / (y == 1).sum() if (y == 1).sum() else float("nan")
        f1 = 2 * precision * recall / (precision + recall) if tp else 0.0
        out[f"tier_{name}"] = {
            "threshold": threshold,
            "share": float(predicted.mean()),
            "precision": float(precision),
            "recall": float(recall),
            "f1": float(f1),
        }
    return out
