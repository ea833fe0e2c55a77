"""The float32 matrix onnxruntime scores, with LightGBM's input conventions: shared by the
export's parity check and the scorer. Kept apart from leadscore.export so that scoring, which
every dbt connection imports, does not import LightGBM (and through it scikit-learn).
"""

from __future__ import annotations

import numpy as np

__all__ = ["as_model_input"]

# LightGBM reads |x| <= 1e-35 (as float32) as exactly zero when it parses an input row
_LIGHTGBM_ZERO = np.float32(1e-35)


def as_model_input(features: np.ndarray) -> np.ndarray:
    """The float32 matrix onnxruntime gets, with LightGBM's input conventions applied.

    Features are float32 in training and in scoring; values LightGBM treats as zero (|x| at or
    below 1e-35) are zeroed so a split at LightGBM's zero threshold goes the same way.
    """
    with np.errstate(over="ignore"):  # beyond float32 range is +-inf, as in onnxruntime
        x = np.array(features, dtype=np.float32, copy=True, order="C")
    x[np.abs(x) <= _LIGHTGBM_ZERO] = 0.0
    return x
