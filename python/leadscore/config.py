"""Where leadscore keeps things: one place for paths, environment variables and fixed names."""

from __future__ import annotations

import argparse
import dataclasses
import os
import re
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")

__all__ = [
    "LABEL_COLUMN",
    "add_path_option",
    "artifacts_dir",
    "busy_message",
    "dbt_vars",
    "in_use_message",
    "models_dir",
    "non_feature_columns",
    "project_dir",
    "settings_from_args",
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


PATH_OPTIONS = {
    "--warehouse": "DuckDB file (default: $LEADSCORE_DB or warehouse.duckdb)",
    "--artifacts": "artifacts root (default: $LEADSCORE_ARTIFACTS or artifacts)",
}


def add_path_option(parser: argparse.ArgumentParser, flag: str, default: Path | None) -> None:
    """--warehouse or --artifacts, worded the same in every command that takes it."""
    parser.add_argument(flag, type=Path, default=default, help=PATH_OPTIONS[flag])


def settings_from_args(cls: type[T], args: argparse.Namespace, **values: Any) -> T:
    """The dataclass cls from parsed options named like its fields (paths resolved), plus the
    values given; fields with neither keep their defaults."""
    for name in (f.name for f in dataclasses.fields(cls)):  # type: ignore[arg-type]
        if name not in values and hasattr(args, name):
            value = getattr(args, name)
            values[name] = value.resolve() if isinstance(value, Path) else value
    return cls(**values)


def in_use_message(path: Path | str, exc: Exception) -> str:
    """'<path> is in use by another process (PID n)', from DuckDB's lock error."""
    holder = re.search(r"PID (\d+)", str(exc))
    return f"{path} is in use by another process" + (
        f" (PID {holder.group(1)})" if holder else ""
    )


def busy_message(path: Path | str, *, read_only: bool) -> str | None:
    """'The warehouse <path> is in use by another process (PID n)' while another process holds
    the DuckDB file's lock (DuckDB allows one writer per file); None when it can be opened."""
    import duckdb

    try:
        duckdb.connect(str(path), read_only=read_only).close()
    except duckdb.IOException as exc:
        if "lock" not in str(exc).lower():
            raise
        return f"The warehouse {in_use_message(path, exc)}"
    return None


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
