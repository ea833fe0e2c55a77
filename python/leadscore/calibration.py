"""Probability calibration: Platt scaling and isotonic regression, fitted on a held-out fold.

Calibrators are plain dicts (JSON in metadata.json) so the scorer needs nothing but numpy.
scikit-learn is imported only to fit: every dbt connection imports this module through the
scoring functions, and importing scikit-learn there would add seconds to every dbt command.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["apply_calibration", "choose_calibration", "fit_isotonic", "fit_platt", "logit"]

_EPS = 1e-7


def logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(np.asarray(p, dtype=np.float64), _EPS, 1 - _EPS)
    return np.log(p / (1 - p))


def fit_platt(raw: np.ndarray, y: np.ndarray, weight: np.ndarray | None = None) -> dict[str, Any]:
    """Logistic regression on the logit of the raw probability."""
    from sklearn.linear_model import LogisticRegression

    model = LogisticRegression(C=1e6, max_iter=1000)
    model.fit(logit(raw).reshape(-1, 1), y, sample_weight=weight)
    return {"method": "platt", "a": float(model.coef_[0, 0]), "b": float(model.intercept_[0])}


def fit_isotonic(
    raw: np.ndarray, y: np.ndarray, weight: np.ndarray | None = None
) -> dict[str, Any]:
    """Monotone step function, stored as its breakpoints for np.interp."""
    from sklearn.isotonic import IsotonicRegression

    model = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip")
    model.fit(np.asarray(raw, dtype=np.float64), y, sample_weight=weight)
    return {
        "method": "isotonic",
        "x": [float(v) for v in model.X_thresholds_],
        "y": [float(v) for v in model.y_thresholds_],
    }


def apply_calibration(calibration: dict[str, Any], raw: np.ndarray) -> np.ndarray:
    """Calibrated probabilities for raw model probabilities (NaN stays NaN)."""
    raw = np.asarray(raw, dtype=np.float64)
    method = calibration["method"]
    if method == "platt":
        z = calibration["a"] * logit(raw) + calibration["b"]
        out = 1.0 / (1.0 + np.exp(-z))
    elif method == "isotonic":
        out = np.interp(raw, calibration["x"], calibration["y"])
    elif method == "none":
        out = raw.copy()
    else:
        raise ValueError(f"unknown calibration method {method!r}")
    out[np.isnan(raw)] = np.nan
    return out


def choose_calibration(
    raw: np.ndarray,
    y: np.ndarray,
    seed: int = 0,
    groups: np.ndarray | None = None,
    weight: np.ndarray | None = None,
) -> tuple[dict[str, Any], dict[str, float]]:
    """Fit Platt and isotonic; keep the one with the lower out-of-fold log loss.

    Judged out of fold (isotonic would always win in-sample): with ``groups`` (consecutive
    calibration periods) each period is scored by calibrators fitted on the others, so the
    choice holds across time, not only within one period; without, by stratified 5-fold
    cross-validation. The winner is then refitted on every row. Returns the calibrator and the
    out-of-fold log loss of each method. Rows count by ``weight`` (``sample_weight``) in every
    fit and loss.
    """
    from sklearn.metrics import log_loss
    from sklearn.model_selection import LeaveOneGroupOut, StratifiedKFold

    raw = np.asarray(raw, dtype=np.float64)
    y = np.asarray(y, dtype=np.int64)
    w = np.ones(len(y)) if weight is None else np.asarray(weight, dtype=np.float64)
    if groups is not None and len(np.unique(groups)) >= 2:
        splits = list(LeaveOneGroupOut().split(raw, y, groups))
    else:
        splitter = StratifiedKFold(n_splits=5, shuffle=True, random_state=seed)
        splits = list(splitter.split(raw, y))
    fits = {"platt": fit_platt, "isotonic": fit_isotonic}
    out_of_fold = {name: np.full(len(y), np.nan) for name in fits}
    for fit_index, score_index in splits:
        if len(np.unique(y[fit_index])) < 2:
            continue
        for name, fit in fits.items():
            calibrator = fit(raw[fit_index], y[fit_index], w[fit_index])
            out_of_fold[name][score_index] = apply_calibration(calibrator, raw[score_index])
    scored = ~np.isnan(out_of_fold["platt"])
    losses = {
        name: float(
            log_loss(
                y[scored],
                np.clip(p[scored], _EPS, 1 - _EPS),
                labels=[0, 1],
                sample_weight=w[scored],
            )
        )
        for name, p in out_of_fold.items()
    }
    best = min(losses, key=losses.get)
    return fits[best](raw, y, w), losses
