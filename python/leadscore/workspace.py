"""An isolated leadscore installation for tests and benchmarks: every path the project uses
(raw data, warehouse, artifacts, published marts, dbt target and logs) points into one folder,
so runs never touch the developer's files and can run side by side.

Commands run with the repository checkout as working directory (its dbt project and
python/train.py); the checkout is the one this module lives in.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import duckdb
import pandas as pd

from leadscore.artifacts import champion_version, list_versions

__all__ = ["BIN", "DEMO_AS_OF", "DEMO_END", "ROOT", "Workspace"]

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
DEMO_END = date(2026, 6, 1)
DEMO_AS_OF = "2026-06-01 00:00:00"


@dataclass
class Workspace:
    """Paths and commands of one isolated leadscore installation."""

    root: Path
    extra_env: dict[str, str] = field(default_factory=dict)
    # the folder holding profiles.yml (a copy with other DuckDB settings, say)
    profiles_dir: Path = ROOT

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

    @property
    def target(self) -> Path:
        return self.root / "target"

    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update(
            {
                "DBT_PROFILES_DIR": str(self.profiles_dir),
                "DBT_TARGET_PATH": str(self.target),
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
        self,
        leads: int = 1500,
        seed: int = 7,
        end: date = DEMO_END,
        months: int = 12,
        file_format: str = "csv",
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
            "--format",
            file_format,
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
            # one LightGBM thread: OpenMP threads spinning on a busy 2-core machine cost minutes
            "--threads",
            "1",
            *args,
            check=check,
        )

    def sql(self, query: str, database: Path | None = None) -> list[tuple]:
        con = duckdb.connect(str(database or self.warehouse), read_only=True)
        try:
            return con.execute(query).fetchall()
        finally:
            con.close()

    def df(self, query: str, database: Path | None = None) -> pd.DataFrame:
        con = duckdb.connect(str(database or self.warehouse), read_only=True)
        try:
            return con.execute(query).df()
        finally:
            con.close()

    def copy_to(self, root: Path, *, with_artifacts: bool = True) -> Workspace:
        """A new workspace at root holding copies of this one's inputs, warehouse and outputs.

        dbt's target folder is not copied: the copy parses the project afresh.
        """
        root.mkdir(parents=True, exist_ok=True)
        for name in ("raw", "truth", "artifacts", "published"):
            source = self.root / name
            if source.is_dir() and (with_artifacts or name != "artifacts"):
                shutil.copytree(source, root / name)
        for source in self.root.glob("warehouse.duckdb*"):
            shutil.copy2(source, root / source.name)
        return Workspace(root, dict(self.extra_env), self.profiles_dir)

    def champion(self) -> str | None:
        return champion_version(self.artifacts)

    def versions(self) -> list[str]:
        return list_versions(self.artifacts)

    def published_files(self) -> dict[str, bytes]:
        """The bytes of every published file, by name."""
        return {p.name: p.read_bytes() for p in sorted(self.published.glob("*")) if p.is_file()}
