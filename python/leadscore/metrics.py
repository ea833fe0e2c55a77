"""Evaluation metrics for calibrated conversion probabilities (arrays in, numbers out).

Every metric takes optional row weights: ``lead_training_set`` keeps a sample of a long-open
lead's calendar rows and weights each by how many rows it stands for (``sample_weight``), so
weighted figures describe every (lead, cutoff) pair, not the sample. Bins still count rows.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.metrics import average_precision_score, brier_score_loss, log_loss, roc_auc_score

__all__ = [
    "auc",
    "calibration_in_the_large",
    "evaluate",
    "expected_calibration_error",
    "reliability_bins",
    "top_decile_lift",
    "worst_bin_gap",
]


def _weights(y: np.ndarray, weight: np.ndarray | None) -> np.ndarray:
    if weight is None:
        return np.ones(len(y), dtype=np.float64)
    return np.asarray(weight, dtype=np.float64)


def reliability_bins(
    y: np.ndarray, p: np.ndarray, bins: int = 10, weight: np.ndarray | None = None
) -> list[dict[str, float]]:
    """Predicted vs observed rate in equal-width probability bins (n counts rows)."""
    y = np.asarray(y, dtype=np.float64)
    p = np.asarray(p, dtype=np.float64)
    w = _weights(y, weight)
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
                    "weight": float(w[mask].sum()),
                    "mean_predicted": float(np.average(p[mask], weights=w[mask])),
                    "observed_rate": float(np.average(y[mask], weights=w[mask])),
                }
            )
    return rows


def expected_calibration_error(
    y: np.ndarray, p: np.ndarray, bins: int = 10, weight: np.ndarray | None = None
) -> float:
    """Share-weighted mean |observed - predicted| over equal-width bins."""
    rows = reliability_bins(y, p, bins, weight)
    total = sum(r["weight"] for r in rows)
    return float(
        sum(r["weight"] / total * abs(r["observed_rate"] - r["mean_predicted"]) for r in rows)
    )


def worst_bin(
    y: np.ndarray, p: np.ndarray, min_rows: int = 100, weight: np.ndarray | None = None
) -> dict[str, float] | None:
    """The reliability bin of at least min_rows rows whose observed rate is furthest from its
    mean prediction (see reliability_bins), None when no bin is that full."""
    full = [
        r
        for r in reliability_bins(np.asarray(y), np.asarray(p, dtype=np.float64), weight=weight)
        if r["n"] >= min_rows
    ]
    return max(full, key=lambda r: abs(r["observed_rate"] - r["mean_predicted"]), default=None)


def worst_bin_gap(
    y: np.ndarray, p: np.ndarray, min_rows: int = 100, weight: np.ndarray | None = None
) -> float | None:
    """Largest |observed - predicted| over reliability bins holding at least min_rows rows.

    ECE averages the gaps away; a model that says 0.44 where 0.34 convert in a crowded bin is
    wrong where it matters. None when no bin is that full.
    """
    found = worst_bin(y, p, min_rows, weight)
    return None if found is None else float(abs(found["observed_rate"] - found["mean_predicted"]))


def calibration_in_the_large(
    y: np.ndarray, p: np.ndarray, weight: np.ndarray | None = None
) -> dict[str, float]:
    """Observed against expected conversions over all rows: their ratio and a z-score.

    Bin gaps miss a level shift at a low base rate (3.8% converting where 3.0% was predicted is
    a gap of 0.008 in the lowest bin, and 28% more conversions than expected). ``z`` compares
    the difference with its standard deviation if the probabilities were right (a sum of
    independent Bernoulli draws): beyond 3 it is not chance.
    """
    y = np.asarray(y, dtype=np.float64)
    p = np.clip(np.asarray(p, dtype=np.float64), 0.0, 1.0)
    w = _weights(y, weight)
    observed, expected = float(np.sum(w * y)), float(np.sum(w * p))
    sd = float(np.sqrt(np.sum(w**2 * p * (1.0 - p))))
    return {
        "observed_rate": observed / float(w.sum()),
        "mean_predicted": expected / float(w.sum()),
        "observed_over_expected": observed / expected if expected > 0 else float("nan"),
        "z": (observed - expected) / sd if sd > 0 else float("nan"),
    }


def auc(y: np.ndarray, score: np.ndarray, weight: np.ndarray | None = None) -> float:
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
    return float(roc_auc_score(y, score, sample_weight=weight))


def top_decile_lift(y: np.ndarray, p: np.ndarray, weight: np.ndarray | None = None) -> float:
    """Conversion rate of the highest-scored 10% (of the weight) over the overall rate."""
    y = np.asarray(y, dtype=np.float64)
    w = _weights(y, weight)
    order = np.argsort(-np.asarray(p, dtype=np.float64), kind="stable")
    cumulative = np.cumsum(w[order])
    top = order[: max(1, int(np.searchsorted(cumulative, 0.1 * cumulative[-1], side="right")))]
    base = np.average(y, weights=w)
    return float(np.average(y[top], weights=w[top]) / base) if base > 0 else float("nan")


def evaluate(
    y: np.ndarray,
    p: np.ndarray,
    thresholds: dict[str, float] | None = None,
    weight: np.ndarray | None = None,
) -> dict[str, Any]:
    """AUC-ROC, PR-AUC, Brier, log loss, ECE, top-decile lift and precision/recall per threshold.

    ``n`` counts rows; every rate is weighted by ``weight`` when given.
    """
    y = np.asarray(y, dtype=np.int64)
    p = np.clip(np.asarray(p, dtype=np.float64), 0.0, 1.0)
    w = _weights(y, weight)
    both = len(np.unique(y)) == 2
    out: dict[str, Any] = {
        "n": len(y),
        "positive_rate": float(np.average(y, weights=w)) if len(y) else float("nan"),
        "auc": auc(y, p, w),
        "pr_auc": float(average_precision_score(y, p, sample_weight=w)) if both else float("nan"),
        "brier": float(brier_score_loss(y, p, sample_weight=w)),
        "log_loss": float(
            log_loss(y, np.clip(p, 1e-7, 1 - 1e-7), labels=[0, 1], sample_weight=w)
        ),
        "ece": expected_calibration_error(y, p, weight=w),
        "top_decile_lift": top_decile_lift(y, p, w),
    }
    positives = float(w[y == 1].sum())
    for name, threshold in (thresholds or {}).items():
        predicted = p >= threshold
        tp = float(w[predicted & (y == 1)].sum())
        chosen = float(w[predicted].sum())
        precision = tp / chosen if chosen else float("nan")
        recall = tp / positives if positives else float("nan")
        f1 = 2 * precision * recall / (precision + recall) if tp else 0.0
        out[f"tier_{name}"] = {
            "threshold": threshold,
            "share": chosen / float(w.sum()),
            "precision": float(precision),
            "recall": float(recall),
            "f1": float(f1),
        }
    return out
