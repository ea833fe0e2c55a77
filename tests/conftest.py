"""Shared test fixtures: isolated workspaces with a real DuckDB file, real dbt, real models.

A Workspace points every leadscore path (raw data, warehouse, artifacts, published marts,
dbt target and logs) into a temporary folder, so tests never touch the developer's files and
can run side by side.
"""

from __future__ import annotations

import csv
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from leadscore.artifacts import champion_version, list_versions

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
        return Workspace(root, dict(self.extra_env))

    def champion(self) -> str | None:
        return champion_version(self.artifacts)

    def versions(self) -> list[str]:
        return list_versions(self.artifacts)

    def published_files(self) -> dict[str, bytes]:
        """The bytes of every published file, by name."""
        return {p.name: p.read_bytes() for p in sorted(self.published.glob("*")) if p.is_file()}


def write_csv(path: Path, rows: list[dict[str, object]]) -> None:
    """Write rows (dicts with the same keys) as a CSV file with a header; None is empty."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def read_csv_rows(path: Path) -> list[dict[str, str]]:
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


def append_csv_rows(path: Path, rows: list[dict[str, object]]) -> None:
    """Append rows to an existing CSV file, in the column order of its header."""
    with open(path, newline="") as handle:
        header = next(csv.reader(handle))
    with open(path, "a", newline="") as handle:
        csv.DictWriter(handle, fieldnames=header, lineterminator="\n").writerows(rows)


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


# --------------------------------------------------------------------------- tiny inputs
# Hand-written inputs small enough to reason about row by row (bad input, PII, model faults,
# concurrency, fuzzing), scored with the model of scored_workspace.

TINY_JOB_TITLES = ("Manager", "Director", "Individual Contributor", "VP")
TINY_COMPANY_SIZES = ("51-200", "11-50", "201-1000")
TINY_INDUSTRIES = ("Software", "Healthcare", "Manufacturing")
TINY_COUNTRIES = ("United States", "India", "United Kingdom")
TINY_LEAD_SOURCES = ("organic_search", "paid_search", "outbound")
TINY_EVENT_KINDS = (
    ("web", "page_view", "pricing"),
    ("web", "page_view", "blog"),
    ("email", "email_open", None),
    ("form", "form_submit", "demo"),
    ("content", "download", None),
)


def tiny_leads(n: int = 12) -> list[dict[str, object]]:
    """n clean leads created a week apart from 2026-01-05, with attributes the model knows."""
    return [
        {
            "lead_id": f"T{i:03d}",
            "created_at": f"2026-{1 + i * 7 // 28:02d}-{1 + (4 + i * 7) % 28:02d} 09:30:00",
            "email": f"person.{i}@tiny-example.com",
            "job_title": TINY_JOB_TITLES[i % len(TINY_JOB_TITLES)],
            "company_size": TINY_COMPANY_SIZES[i % len(TINY_COMPANY_SIZES)],
            "employee_count": 40 + 17 * i,
            "industry": TINY_INDUSTRIES[i % len(TINY_INDUSTRIES)],
            "country": TINY_COUNTRIES[i % len(TINY_COUNTRIES)],
            "lead_source": TINY_LEAD_SOURCES[i % len(TINY_LEAD_SOURCES)],
        }
        for i in range(n)
    ]


def tiny_events(leads: list[dict[str, object]]) -> list[dict[str, object]]:
    """A few events per lead, all after its creation and before DEMO_AS_OF."""
    events = []
    for i, lead in enumerate(leads):
        created = str(lead["created_at"])
        for k in range(1 + i % 4):
            channel, event_type, page = TINY_EVENT_KINDS[(i + k) % len(TINY_EVENT_KINDS)]
            day = int(created[8:10]) + k
            events.append(
                {
                    "event_id": f"E{i:03d}-{k}",
                    "lead_id": lead["lead_id"],
                    "occurred_at": f"{created[:8]}{min(day, 28):02d} 1{k}:00:00",
                    "channel": channel,
                    "event_type": event_type,
                    "page_category": page,
                    "campaign": None,
                    "value": 30 + k if channel == "web" else None,
                }
            )
    return events


def tiny_conversions(leads: list[dict[str, object]]) -> list[dict[str, object]]:
    """Every third lead converts on 2026-05-20."""
    return [
        {"lead_id": lead["lead_id"], "converted_at": "2026-05-20 12:00:00", "amount": 1000 + i}
        for i, lead in enumerate(leads)
        if i % 3 == 2
    ]


def write_tiny_inputs(folder: Path, n_leads: int = 12) -> None:
    """leads.csv, events.csv and conversions.csv of tiny_leads(n_leads) in folder."""
    leads = tiny_leads(n_leads)
    write_csv(folder / "leads.csv", leads)
    write_csv(folder / "events.csv", tiny_events(leads))
    write_csv(folder / "conversions.csv", tiny_conversions(leads))


def csv_row_count(path: Path) -> int:
    """Data rows of a CSV file as Python's csv module reads them (blank lines do not count)."""
    with open(path, newline="", encoding="utf-8", errors="replace") as handle:
        return sum(1 for row in csv.reader(handle) if row) - 1


@pytest.fixture(scope="session")
def shared_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The artifacts folder of a model trained once per session on 400 generated leads.

    Tests copy it (with_model) and never change it. It needs only the feature marts, so
    it does not wait for the rest of the project to build.
    """
    ws = Workspace(tmp_path_factory.mktemp("shared_model"))
    ws.generate(leads=400)
    ws.dbt("build", "--select", "+lead_features", "+lead_training_set",
           "--exclude-resource-type", "test", "unit_test")
    ws.train()
    return ws.artifacts


def with_model(ws: Workspace, artifacts: Path) -> Workspace:
    """ws with a private copy of a trained model's artifacts, recorded in its warehouse."""
    from leadscore.registry import sync_registry

    shutil.copytree(artifacts, ws.artifacts)
    sync_registry(ws.warehouse, ws.artifacts)
    return ws


@pytest.fixture(scope="session")
def tiny_scored(tmp_path_factory: pytest.TempPathFactory, shared_model: Path) -> Workspace:
    """The tiny inputs built, scored with shared_model and published.

    Copy it (copy_to) to change anything; never change it in place.
    """
    ws = with_model(Workspace(tmp_path_factory.mktemp("tiny_scored")), shared_model)
    write_tiny_inputs(ws.raw)
    ws.dbt("build", "--select", "+lead_scores", "--exclude-resource-type", "test", "unit_test")
    return ws
