"""ONNX export of a LightGBM booster, and the parity gate that must pass before it is published.

onnxruntime compares float32 inputs with float32 thresholds, LightGBM compares doubles with
double thresholds. The converter rounds each double threshold to the *nearest* float32, so a
float32 input lying between the two takes the other branch. Rounding every threshold *down* to
the largest float32 not above it gives, for every float32 input x, ``x <= t32`` exactly when
``x <= t``: the two runtimes then agree (features are float32 in training and in scoring).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import lightgbm as lgb
import numpy as np
import onnx
import onnxruntime as ort

from leadscore.model_input import as_model_input

__all__ = [
    "ParityReport",
    "as_model_input",
    "check_parity",
    "floor_thresholds_to_float32",
    "floor_to_float32",
    "golden_rows",
    "split_thresholds",
    "to_onnx",
]

ONNX_OPSET = 15
def floor_to_float32(values: np.ndarray) -> np.ndarray:
    """The largest float32 not above each double (as float64)."""
    values = np.asarray(values, dtype=np.float64)
    with np.errstate(over="ignore"):  # LightGBM's +-DBL_MAX thresholds become +-FLT_MAX
        nearest = values.astype(np.float32)
    above = nearest.astype(np.float64) > values
    nearest[above] = np.nextafter(nearest[above], np.float32(-np.inf))
    return nearest.astype(np.float64)


_THRESHOLD = re.compile(r"^threshold=(.*)$", re.MULTILINE)


def floor_thresholds_to_float32(booster: lgb.Booster) -> lgb.Booster:
    """A copy of a numerical-split booster whose thresholds are float32-representable.

    On float32 inputs it predicts exactly what the original predicts.
    """
    text = booster.model_to_string()

    def _floor(match: re.Match[str]) -> str:
        values = np.array([float(v) for v in match.group(1).split()], dtype=np.float64)
        return "threshold=" + " ".join(repr(float(v)) for v in floor_to_float32(values))

    text = _THRESHOLD.sub(_floor, text)
    # tree_sizes lists byte offsets for parallel loading; the edited trees changed length
    text = re.sub(r"^tree_sizes=.*\n", "", text, flags=re.MULTILINE)
    return lgb.Booster(model_str=text)


def to_onnx(booster: lgb.Booster, n_features: int) -> onnx.ModelProto:
    """Convert to ONNX (probabilities as a plain tensor, no ZipMap)."""
    from onnxmltools import convert_lightgbm
    from onnxmltools.convert.common.data_types import FloatTensorType

    return convert_lightgbm(
        booster,
        name="leadscore",
        initial_types=[("features", FloatTensorType([None, n_features]))],
        zipmap=False,
        target_opset=ONNX_OPSET,
    )


def split_thresholds(booster: lgb.Booster) -> list[tuple[int, float]]:
    """Every (feature index, threshold) of every numerical split."""
    found: list[tuple[int, float]] = []

    def walk(node: dict[str, Any]) -> None:
        if "split_feature" in node:
            if node.get("decision_type", "<=") == "<=":
                found.append((int(node["split_feature"]), float(node["threshold"])))
            walk(node["left_child"])
            walk(node["right_child"])

    for tree in booster.dump_model()["tree_info"]:
        walk(tree["tree_structure"])
    return found


def golden_rows(
    booster: lgb.Booster,
    base_row: np.ndarray,
    categorical_index: list[int],
    max_thresholds: int = 2000,
) -> dict[str, np.ndarray]:
    """Rows that sit exactly on split thresholds, hold NaN, or carry unseen category codes.

    Each row is the base row with one feature changed. Threshold rows take, for a split at t,
    the float32 values just at and just above the largest float32 not above t; both must go
    the same way in LightGBM and in onnxruntime.
    """
    base = np.asarray(base_row, dtype=np.float64)
    rows: dict[str, list[np.ndarray]] = {
        "threshold": [],
        "nan": [],
        "unseen_category": [],
        "extreme": [],
    }
    seen: set[tuple[int, float]] = set()
    for feature, threshold in split_thresholds(booster):
        if (feature, threshold) in seen or len(seen) >= max_thresholds:
            continue
        seen.add((feature, threshold))
        if abs(threshold) > float(np.finfo(np.float32).max):
            continue  # a split at +-DBL_MAX only separates NaN; the NaN rows cover it
        nearest = np.float64(np.float32(threshold))
        floor = floor_to_float32(np.array([threshold]))[0]
        above = np.float64(np.nextafter(np.float32(floor), np.float32(np.inf)))
        for value in {nearest, floor, above}:
            row = base.copy()
            row[feature] = value
            rows["threshold"].append(row)
    for feature in range(len(base)):
        row = base.copy()
        row[feature] = np.nan
        rows["nan"].append(row)
        for value in (0.0, -1e30, 1e30):
            row = base.copy()
            row[feature] = value
            rows["extreme"].append(row)
    for feature in categorical_index:
        row = base.copy()
        row[feature] = -1.0
        rows["unseen_category"].append(row)
    rows["nan"].append(np.full_like(base, np.nan))
    width = len(base)
    return {k: np.array(v, dtype=np.float64).reshape(-1, width) for k, v in rows.items()}


@dataclass(frozen=True)
class ParityReport:
    """Largest |onnxruntime - LightGBM| probability difference per row set."""

    max_abs_diff: dict[str, float]
    rows: dict[str, int]
    tolerance: float

    @property
    def passed(self) -> bool:
        return all(v <= self.tolerance for v in self.max_abs_diff.values())

    def summary(self) -> str:
        parts = [
            f"{k}: {self.max_abs_diff[k]:.2e} on {self.rows[k]} rows" for k in self.max_abs_diff
        ]
        verdict = "passed" if self.passed else "FAILED"
        return f"parity {verdict} (tolerance {self.tolerance:g}): " + "; ".join(parts)


def onnx_probabilities(model: onnx.ModelProto, x: np.ndarray) -> np.ndarray:
    options = ort.SessionOptions()
    options.log_severity_level = 3  # the converter declares the label output's shape loosely
    session = ort.InferenceSession(
        model.SerializeToString(), sess_options=options, providers=["CPUExecutionProvider"]
    )
    name = session.get_inputs()[0].name
    return np.asarray(session.run(None, {name: as_model_input(x)})[1], dtype=np.float64)[:, 1]


def check_parity(
    booster: lgb.Booster,
    model: onnx.ModelProto,
    row_sets: dict[str, np.ndarray],
    tolerance: float = 1e-5,
) -> ParityReport:
    """Compare onnxruntime with native LightGBM on each row set (inputs taken as float32)."""
    diffs: dict[str, float] = {}
    counts: dict[str, int] = {}
    for name, x in row_sets.items():
        if len(x) == 0:
            continue
        x32 = np.asarray(x, dtype=np.float32)
        native = booster.predict(x32.astype(np.float64))
        exported = onnx_probabilities(model, x32)
        diffs[name] = float(np.max(np.abs(native - exported)))
        counts[name] = len(x)
    return ParityReport(max_abs_diff=diffs, rows=counts, tolerance=tolerance)
