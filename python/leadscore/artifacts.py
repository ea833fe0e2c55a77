"""Versioned model artifacts: one folder per version, a champion pointer, clear errors."""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from leadscore.config import models_dir

__all__ = [
    "ModelArtifact",
    "ModelError",
    "champion_version",
    "feature_schema_hash",
    "file_sha256",
    "list_versions",
    "load_artifact",
    "set_champion",
    "write_json_atomic",
]

CHAMPION_FILE = "champion.json"
NO_MODEL = "No trained model found in {where}. Run: python python/train.py"


class ModelError(RuntimeError):
    """A model cannot be used; the message says why and what to do."""


@dataclass(frozen=True)
class ModelArtifact:
    """A trained model version on disk."""

    version: str
    path: Path
    metadata: dict[str, Any]

    @property
    def onnx_path(self) -> Path:
        return self.path / "model.onnx"

    @property
    def lightgbm_path(self) -> Path:
        return self.path / "model.lgbm.txt"

    @property
    def feature_names(self) -> list[str]:
        return [f["name"] for f in self.metadata["features"]]


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def feature_schema_hash(features: list[dict[str, Any]]) -> str:
    """A short hash of the ordered (name, kind) feature schema."""
    text = "\n".join(f"{f['name']}:{f['kind']}" for f in features)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def write_json_atomic(path: Path, payload: dict[str, Any]) -> None:
    """Write JSON so readers see the old file or the new one, never a partial one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    with os.fdopen(fd, "w") as handle:
        json.dump(payload, handle, indent=2, sort_keys=True, default=str)
        handle.write("\n")
    os.replace(tmp, path)


def list_versions(root: Path | None = None) -> list[str]:
    """Versions that have a metadata file, oldest first (versions sort by time)."""
    base = models_dir(root)
    if not base.is_dir():
        return []
    return sorted(p.name for p in base.iterdir() if (p / "metadata.json").is_file())


def champion_version(root: Path | None = None) -> str | None:
    pointer = models_dir(root) / CHAMPION_FILE
    if not pointer.is_file():
        return None
    return json.loads(pointer.read_text())["version"]


def set_champion(version: str, root: Path | None = None) -> None:
    load_artifact(version, root)  # refuse to point at something that does not load
    write_json_atomic(models_dir(root) / CHAMPION_FILE, {"version": version})


def load_artifact(version: str | None = None, root: Path | None = None) -> ModelArtifact:
    """Load a version's metadata (the champion when version is None), checking its files.

    Raises ModelError with a message that names the fix.
    """
    base = models_dir(root)
    if not version:
        version = champion_version(root)
        if version is None:
            raise ModelError(NO_MODEL.format(where=base))
    path = base / version
    meta_path = path / "metadata.json"
    if not meta_path.is_file():
        known = ", ".join(list_versions(root)) or "none"
        raise ModelError(
            f"Model version '{version}' not found in {base} (available: {known}). "
            "Pick one of those with --vars '{model_version: ...}', or train one: "
            "python python/train.py"
        )
    try:
        metadata = json.loads(meta_path.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise ModelError(
            f"{meta_path} is not valid JSON ({exc}). Retrain with python python/train.py, "
            "or roll back with: leadscore promote <older version>"
        ) from exc
    artifact = ModelArtifact(version=version, path=path, metadata=metadata)
    for required in ("features", "calibration", "onnx_sha256", "feature_schema_hash"):
        if required not in metadata:
            raise ModelError(
                f"{meta_path} lacks '{required}': it does not describe this model. Retrain with "
                "python python/train.py, or roll back with: leadscore promote <older version>"
            )
    if not artifact.onnx_path.is_file():
        raise ModelError(
            f"{artifact.onnx_path} is missing. Retrain with python python/train.py, "
            "or roll back with: leadscore promote <older version>"
        )
    actual = file_sha256(artifact.onnx_path)
    if actual != metadata["onnx_sha256"]:
        raise ModelError(
            f"{artifact.onnx_path} does not match its metadata (sha256 {actual[:12]}... != "
            f"{metadata['onnx_sha256'][:12]}...): the file is truncated, corrupted or replaced. "
            "Retrain with python python/train.py, or roll back with: leadscore promote <version>"
        )
    if not artifact.lightgbm_path.is_file():
        raise ModelError(
            f"{artifact.lightgbm_path} is missing (it explains the scores). Retrain with "
            "python python/train.py, or roll back with: leadscore promote <older version>"
        )
    expected = metadata.get("lightgbm_sha256")
    if expected and file_sha256(artifact.lightgbm_path) != expected:
        raise ModelError(
            f"{artifact.lightgbm_path} does not match its metadata (sha256): the file is "
            "truncated, corrupted or replaced. Retrain with python python/train.py, or roll "
            "back with: leadscore promote <older version>"
        )
    if feature_schema_hash(metadata["features"]) != metadata["feature_schema_hash"]:
        raise ModelError(
            f"{meta_path}: feature list does not match its feature_schema_hash. Retrain with "
            "python python/train.py"
        )
    return artifact
