"""Purged walk-forward folds: which training rows may fit, stop, calibrate and test a model.

A row of ``lead_training_set`` is a (lead, cutoff) pair whose label looks ``label_window_days``
past its cutoff. The test period is the last ``test_days`` of cutoffs. A row may train, stop
the boosting early or calibrate only if its label window, plus ``embargo_days``, ends before
the test period starts: otherwise its label would already know outcomes of the test period.
Such rows are *purged*. The rows that pass are split by time: the oldest train, the next
validate (early stopping), the newest calibrate. Rows after the test period are *later*.

    cutoffs ->  | train ...........| validation | calibration |~ purge + embargo ~| test |
                                                  label windows end before here ^

A flat export (one cutoff) has no time to split by and gets a stratified random split.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.model_selection import train_test_split

from leadscore.config import LABEL_COLUMN

__all__ = [
    "FOLDS",
    "FoldError",
    "assign_folds",
    "calibration_groups",
    "check_folds",
    "test_period",
]

FOLDS = ("train", "validation", "calibration", "test")
TRAIN_SHARE, VALIDATION_SHARE = 0.65, 0.15  # of the rows that pass the purge; the rest calibrate


class FoldError(ValueError):
    """The rows cannot be split honestly; the message says what to change."""


def test_period(
    as_of: pd.Series, test_days: int, test_end: pd.Timestamp | None = None
) -> tuple[pd.Timestamp, pd.Timestamp]:
    """(start, end] of the test period: the last test_days of cutoffs up to test_end."""
    end = pd.Timestamp(as_of.max()) if test_end is None else pd.Timestamp(test_end)
    return end - pd.Timedelta(days=test_days), end


def assign_folds(
    frame: pd.DataFrame,
    seed: int = 42,
    *,
    window_days: int = 90,
    embargo_days: int = 7,
    test_days: int = 60,
    test_end: pd.Timestamp | None = None,
) -> tuple[pd.Series, str]:
    """Fold per row: train / validation / calibration / test, or purged / later (unused).

    Returns the folds and the split kind ("time", or "stratified" for a single cutoff).
    """
    as_of = pd.to_datetime(frame["as_of"])
    if as_of.nunique() == 1:
        return _stratified(frame, seed), "stratified"
    start, end = test_period(as_of, test_days, test_end)
    folds = pd.Series("purged", index=frame.index, dtype=object)
    folds[as_of > end] = "later"
    folds[(as_of > start) & (as_of <= end)] = "test"
    label_known = as_of + pd.Timedelta(days=window_days + embargo_days)
    usable = (label_known <= start).to_numpy()
    if not usable.any():
        raise FoldError(
            f"No row's label window ({window_days} days + {embargo_days} days embargo) ends "
            f"before the test period starts ({start}): the history is too short to test "
            "honestly. Use a longer history, or lower label_window_days (dbt var) or "
            "--test-days, then rebuild: dbt build --exclude tag:scoring"
        )
    times = as_of[usable].sort_values()
    # cut between distinct cutoffs so the rows of one calendar cutoff stay together
    counts = times.value_counts(sort=False).sort_index()
    share = counts.cumsum() / counts.sum()
    first_validation = share.index[np.searchsorted(share.to_numpy(), TRAIN_SHARE)]
    first_calibration = share.index[
        np.searchsorted(share.to_numpy(), TRAIN_SHARE + VALIDATION_SHARE)
    ]
    kept = pd.Series(usable, index=frame.index)
    folds[kept & (as_of < first_validation)] = "train"
    folds[kept & (as_of >= first_validation) & (as_of <= first_calibration)] = "validation"
    folds[kept & (as_of > first_calibration)] = "calibration"
    return folds, "time"


def _stratified(frame: pd.DataFrame, seed: int) -> pd.Series:
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
    return pd.Series(folds, index=frame.index)


def calibration_groups(as_of: pd.Series, periods: int = 3) -> np.ndarray:
    """Consecutive time blocks of the calibration rows (by row count): the calibrator is chosen
    by how it does on each block when fitted on the others."""
    order = pd.to_datetime(as_of).rank(method="first").to_numpy()
    return np.minimum((order - 1) * periods // max(len(order), 1), periods - 1).astype(int)


def check_folds(y: np.ndarray, folds: pd.Series, min_rows: int) -> None:
    """Refuse folds too small or holding one class, naming the fold and what to do."""
    for name in FOLDS:
        mask = (folds == name).to_numpy()
        labels = y[mask]
        if mask.sum() < min_rows:
            raise FoldError(
                f"The {name} fold has {int(mask.sum())} rows, fewer than {min_rows}. "
                "Train on more leads or a longer history (or lower --min-fold-rows)."
            )
        if len(np.unique(labels)) < 2:
            raise FoldError(
                f"The {name} fold holds only label {int(labels[0])}: a model cannot learn or be "
                "evaluated without both converted and unconverted leads. Check the conversions "
                "input and label_window_days."
            )
