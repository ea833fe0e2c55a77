"""Where leadscore keeps things: one place for paths, environment variables and fixed names."""

from __future__ import annotations

import os
from pathlib import Path

__all__ = [
    "LABEL_COLUMN",
    "artifacts_dir",
    "dbt_vars",
    "models_dir",
    "non_feature_columns",
    "project_dir",
    "truth_dir",
    "warehouse_path",
]

LABEL_COLUMN = "label"


def project_dir() -> Path:
    """The dbt project root: $LEADSCORE_PROJECT_DIR, else the checkout this package lives in."""
    env = os.environ.get("LEADSCORE_PROJECT_DIR")
    if env:
        return Path(env).resolve()
    here = Path(__file__).resolve()
    for parent in here.parents:
        if (parent / "dbt_project.yml").exists():
            return parent
    return Path.cwd()


def _resolve(value: str) -> Path:
    path = Path(value)
    return path if path.is_absolute() else project_dir() / path


def warehouse_path() -> Path:
    """The DuckDB warehouse: $LEADSCORE_DB, else warehouse.duckdb in the project root."""
    return _resolve(os.environ.get("LEADSCORE_DB", "warehouse.duckdb"))


def artifacts_dir() -> Path:
    """Root of trained artifacts: $LEADSCORE_ARTIFACTS, else artifacts/ in the project root."""
    return _resolve(os.environ.get("LEADSCORE_ARTIFACTS", "artifacts"))


def models_dir(root: Path | None = None) -> Path:
    """Folder holding one sub-folder per model version."""
    return (root or artifacts_dir()) / "models"


def dbt_vars() -> dict:
    """The vars block of dbt_project.yml (tier thresholds, label window...), read once."""
    import yaml

    path = project_dir() / "dbt_project.yml"
    if not path.is_file():
        return {}
    return yaml.safe_load(path.read_text()).get("vars", {}) or {}


def non_feature_columns() -> tuple[str, ...]:
    """Columns of lead_features / lead_training_set that are not model inputs (dbt var)."""
    return tuple(dbt_vars().get("non_feature_columns") or ("lead_id", "as_of", "label"))


def truth_dir() -> Path:
    """Where the demo generator writes the true conversion probabilities (never a feature)."""
    return _resolve(os.environ.get("LEADSCORE_TRUTH_DIR", "data/truth"))
