"""Shared test fixtures: isolated workspaces with a real DuckDB file, real dbt, real models.

A Workspace (leadscore.workspace, shared with bench/) points every leadscore path into a
temporary folder, so tests never touch the developer's files and can run side by side.
"""

from __future__ import annotations

import csv
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from leadscore.workspace import BIN, DEMO_AS_OF, DEMO_END, ROOT, Workspace

__all__ = ["BIN", "DEMO_AS_OF", "DEMO_END", "ROOT", "Workspace"]


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
