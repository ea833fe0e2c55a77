"""Shared test fixtures: isolated workspaces with a real DuckDB file, real dbt, real models.

A Workspace points every leadscore path (raw data, warehouse, artifacts, published marts,
dbt target and logs) into a temporary folder, so tests never touch the developer's files and
can run side by side.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import duckdb
import pytest

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
DEMO_END = date(2026, 6, 1)
DEMO_AS_OF = "2026-06-01 00:00:00"


@dataclass
class Workspace:
    """Paths and commands of one isolated leadscore installation."""

    root: Path
    extra_env: dict[str, str] = field(default_factory=dict)

    @property
    def raw(self) -> Path:
        return self.root / "raw"

    @property
    def truth(self) -> Path:
        return self.root / "truth"

    @property
    def warehouse(self) -> Path:
        return self.root / "warehouse.duckdb"

    @property
    def artifacts(self) -> Path:
        return self.root / "artifacts"

    @property
    def published(self) -> Path:
        return self.root / "published"

    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update(
            {
                "DBT_PROFILES_DIR": str(ROOT),
                "DBT_TARGET_PATH": str(self.root / "target"),
                "DBT_LOG_PATH": str(self.root / "logs"),
                "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
                "LEADSCORE_DATA_DIR": str(self.raw),
                "LEADSCORE_TRUTH_DIR": str(self.truth),
                "LEADSCORE_DB": str(self.warehouse),
                "LEADSCORE_ARTIFACTS": str(self.artifacts),
                "LEADSCORE_PUBLISH_DIR": str(self.published),
            }
        )
        env.update(self.extra_env)
        return env

    def run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            list(args), cwd=ROOT, env=self.env(), capture_output=True, text=True, timeout=900
        )
        if check and result.returncode != 0:
            raise AssertionError(
                f"{' '.join(args)} failed ({result.returncode}):\n{result.stdout[-4000:]}\n"
                f"{result.stderr[-4000:]}"
            )
        return result

    def generate(
        self, leads: int = 1500, seed: int = 7, end: date = DEMO_END, months: int = 12
    ) -> None:
        self.run(
            str(BIN / "leadscore"),
            "generate",
            "--leads",
            str(leads),
            "--seed",
            str(seed),
            "--end",
            end.isoformat(),
            "--months",
            str(months),
            "--out",
            str(self.raw),
            "--truth-out",
            str(self.truth),
            "--quiet",
        )

    def dbt(
        self, *args: str, as_of: str = DEMO_AS_OF, check: bool = True, vars: str = ""
    ) -> subprocess.CompletedProcess[str]:
        extra = f", {vars}" if vars else ""
        return self.run(
            str(BIN / "dbt"), *args, "--vars", f"{{as_of: '{as_of}'{extra}}}", check=check
        )

    def train(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return self.run(
            str(BIN / "python"),
            str(ROOT / "python" / "train.py"),
            "--min-fold-rows",
            "20",
            "--min-data-in-leaf",
            "10",
            *args,
            check=check,
        )

    def sql(self, query: str, database: Path | None = None) -> list[tuple]:
        con = duckdb.connect(str(database or self.warehouse), read_only=True)
        try:
            return con.execute(query).fetchall()
        finally:
            con.close()


@pytest.fixture
def workspace(tmp_path: Path) -> Workspace:
    """An empty workspace of its own."""
    return Workspace(tmp_path)


@pytest.fixture(scope="session")
def scored_workspace(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Workspace]:
    """A small demo built end to end once per test session: features, a model, scores.

    Tests that use it must not change it; tests that change things build their own.
    """
    ws = Workspace(tmp_path_factory.mktemp("scored"))
    ws.generate()
    ws.dbt("build", "--exclude", "tag:scoring")
    ws.train()
    ws.dbt("build", "--select", "tag:scoring")
    yield ws
