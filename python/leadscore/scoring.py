"""The scorer: an ONNX model plus its calibration, arrays in and probabilities out.

One Scorer per model version; ``get_scorer`` caches them by the ONNX file's sha256, so a
retrained or re-promoted model is picked up while an unchanged one is loaded once per process.
"""

from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor
from functools import cache, cached_property
from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime as ort

from leadscore.artifacts import ModelArtifact, ModelError, champion_version, load_artifact
from leadscore.calibration import apply_calibration
from leadscore.config import models_dir
from leadscore.model_input import as_model_input

__all__ = ["Scorer", "get_scorer", "onnx_session"]

_CACHE: dict[tuple[Any, ...], Scorer] = {}
_LOCK = threading.Lock()
#: rows below which a batch is scored in one piece (splitting costs more than it gains)
MIN_ROWS_PER_PART = 256


def scoring_threads() -> int:
    """How many batches may run at once in this process: LEADSCORE_ORT_THREADS, else the cores."""
    return max(1, int(os.environ.get("LEADSCORE_ORT_THREADS", "0")) or os.cpu_count() or 1)


@cache
def _pool(threads: int) -> ThreadPoolExecutor:
    return ThreadPoolExecutor(threads, thread_name_prefix="leadscore-onnx")


def onnx_session(path: Path, threads: int | None = None) -> ort.InferenceSession:
    """An onnxruntime session with one intra-op thread (unless `threads` says otherwise).

    Parallelism comes from running several rows' parts at once (``Scorer._in_parts``), not from
    onnxruntime's thread pool: a tree ensemble's pool splits trees and costs more than it gains.
    """
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads or 1
    options.inter_op_num_threads = 1
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.log_severity_level = 3  # the converter declares the label output's shape loosely
    try:
        return ort.InferenceSession(
            str(path), sess_options=options, providers=["CPUExecutionProvider"]
        )
    except Exception as exc:  # onnxruntime raises several unrelated types for a bad file
        raise ModelError(
            f"onnxruntime cannot load {path}: {exc}. Retrain with python python/train.py, "
            "or roll back with: leadscore promote <older version>"
        ) from exc


class Scorer:
    """Calibrated conversion probabilities from a feature matrix in metadata order."""

    def __init__(self, artifact: ModelArtifact, threads: int | None = None) -> None:
        self.artifact = artifact
        self.metadata: dict[str, Any] = artifact.metadata
        self.session = onnx_session(artifact.onnx_path, threads)
        self._input = self.session.get_inputs()[0].name
        self.n_features = len(artifact.feature_names)
        shape = self.session.get_inputs()[0].shape
        if len(shape) != 2 or (
            shape[1] not in (None, self.n_features) and not isinstance(shape[1], str)
        ):
            raise ModelError(
                f"{artifact.onnx_path} expects input shape {shape} but metadata.json lists "
                f"{self.n_features} features: the two files belong to different models. "
                "Retrain with python python/train.py"
            )

    @property
    def version(self) -> str:
        return self.artifact.version

    def raw_proba(self, features: np.ndarray) -> np.ndarray:
        """Uncalibrated probability of the positive class, as LightGBM would give it."""
        return self._in_parts(features, self._raw_part)

    def predict_proba(self, features: np.ndarray) -> np.ndarray:
        """Calibrated conversion probability in [0, 1]."""
        return self._in_parts(features, self._calibrated_part)

    def _in_parts(self, features: np.ndarray, score: Any) -> np.ndarray:
        features = np.asarray(features)
        if features.ndim != 2 or features.shape[1] != self.n_features:
            raise ValueError(f"expected an (n, {self.n_features}) matrix, got {features.shape}")
        if len(features) == 0:
            return np.empty(0, dtype=np.float64)
        threads = min(scoring_threads(), len(features) // MIN_ROWS_PER_PART)
        if threads <= 1:
            return score(features)
        # DuckDB runs one UDF call per worker thread, but only as many as the table has row
        # groups (122,880 rows each): a 100k-lead table is scored by one call at a time. So each
        # call splits its rows across one process-wide pool (onnxruntime and numpy release the
        # GIL); the pool's size bounds the cores in use however many calls DuckDB makes at once.
        parts = np.array_split(features, threads)
        return np.concatenate(list(_pool(scoring_threads()).map(score, parts)))

    def _raw_part(self, features: np.ndarray) -> np.ndarray:
        outputs = self.session.run(None, {self._input: as_model_input(features)})
        return np.asarray(outputs[1], dtype=np.float64)[:, 1]

    def _calibrated_part(self, features: np.ndarray) -> np.ndarray:
        raw = self._raw_part(features)
        return np.clip(apply_calibration(self.metadata["calibration"], raw), 0, 1)

    @cached_property
    def booster(self) -> Any:
        import lightgbm as lgb

        return lgb.Booster(model_file=str(self.artifact.lightgbm_path))

    def contributions(self, features: np.ndarray) -> np.ndarray:
        """Exact TreeSHAP contributions in log-odds, one column per feature plus the base value."""
        with np.errstate(over="ignore"):  # beyond float32 range is +-inf, as when scoring
            x = np.asarray(features, dtype=np.float32).astype(np.float64)
        if len(x) == 0:
            return np.empty((0, self.n_features + 1))
        # TreeSHAP costs ~1 ms a row, far more than scoring, and DuckDB calls Python UDFs one
        # batch at a time, so LightGBM may use every core here
        threads = int(os.environ.get("LEADSCORE_SHAP_THREADS", "0")) or os.cpu_count() or 1
        return np.asarray(
            self.booster.predict(x, pred_contrib=True, num_threads=threads), dtype=np.float64
        )


def _file_key(version: str | None, root: Path | None) -> tuple[Any, ...] | None:
    """A cheap key (path, size, mtime) that changes whenever the model's files change."""
    version = version or champion_version(root)
    if version is None:
        return None
    folder = models_dir(root) / version
    try:
        stats = [(folder / name).stat() for name in ("model.onnx", "metadata.json")]
    except OSError:
        return None
    return (str(folder.resolve()), *[(s.st_size, s.st_mtime_ns) for s in stats])


def get_scorer(version: str | None = None, root: Path | None = None) -> Scorer:
    """The scorer for a version (the champion when None).

    Loading verifies the ONNX file against the sha256 in metadata.json; the loaded session is
    then reused until the files change on disk, so calling this per UDF batch is cheap.
    """
    key = _file_key(version, root)
    with _LOCK:
        scorer = _CACHE.get(key) if key is not None else None
        if scorer is None:
            scorer = Scorer(load_artifact(version, root))
            if key is not None:
                _CACHE[key] = scorer
        return scorer
