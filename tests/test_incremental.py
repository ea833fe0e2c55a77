"""Incremental builds: after new events, new leads, an edited lead, a removed lead and a new
conversion, an incremental run of int_lead_events_sessionized, lead_features and lead_scores
gives exactly the tables a full rebuild gives, and recomputes only the leads that changed."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from conftest import (
    Workspace,
    append_csv_rows,
    read_csv_rows,
    with_model,
    write_csv,
)

BUILD = ("build", "--select", "+lead_scores", "--exclude-resource-type", "test", "unit_test")
EVENT_DAY = "2026-05-28"
# sums of floats may add up in another order on another run: equal to the last few bits
FLOAT_TOLERANCE = 1e-9
# written into every row before the incremental run: a row still holding it was kept as it was
KEPT_AS_OF = "1900-01-01 00:00:00"
KEPT_CAMPAIGN = "kept from the run before"


@dataclass
class Runs:
    """One workspace built, changed, then built incrementally; a copy rebuilt from scratch."""

    incremental: Workspace
    full: Workspace
    # the incremental run again, on a copy whose rows were marked as kept before it ran
    marked: Workspace
    first_scored_at: str
    changed: set[str]
    added: set[str]
    removed: str
    # the leads whose events changed (new events, or a new lead with events)
    new_events: set[str]


def event(lead_id: str, n: int, channel: str, event_type: str, page: str | None) -> dict:
    return {
        "event_id": f"NEW-{lead_id}-{n}",
        "lead_id": lead_id,
        "occurred_at": f"{EVENT_DAY} 1{n}:00:00",
        "channel": channel,
        "event_type": event_type,
        "page_category": page,
        "campaign": None,
        "value": None,
    }


def change_inputs(raw: Path) -> tuple[set[str], set[str], str, set[str]]:
    """New events for three leads, two new leads (one with events), one lead's job title
    edited, one lead removed, one new conversion. Returns the lead ids changed, added, removed
    and those with new events."""
    leads = read_csv_rows(raw / "leads.csv")
    converted = {row["lead_id"] for row in read_csv_rows(raw / "conversions.csv")}
    old = [lead for lead in leads if lead["created_at"] < "2026-05-01"]
    with_events, edited, removed = old[:3], old[3], old[4]
    converting = next(lead for lead in old[5:] if lead["lead_id"] not in converted)
    append_csv_rows(
        raw / "events.csv",
        [
            event(lead["lead_id"], n, "web", "page_view", "pricing")
            for lead in with_events
            for n in range(2)
        ],
    )
    edited["job_title"] = "VP" if edited["job_title"] != "VP" else "Director"
    added = [
        {**old[6], "lead_id": f"NEW{i}", "email": f"new.{i}@example.com",
         "created_at": f"{EVENT_DAY} 09:00:00"}
        for i in range(2)
    ]
    write_csv(raw / "leads.csv", [lead for lead in leads if lead is not removed] + added)
    append_csv_rows(raw / "events.csv", [event("NEW0", 0, "form", "form_submit", "demo")])
    append_csv_rows(
        raw / "conversions.csv",
        [{"lead_id": converting["lead_id"], "converted_at": f"{EVENT_DAY} 12:00:00",
          "amount": 1000}],
    )
    changed = {lead["lead_id"] for lead in [*with_events, edited, converting]}
    new_events = {lead["lead_id"] for lead in with_events} | {"NEW0"}
    return changed, {lead["lead_id"] for lead in added}, removed["lead_id"], new_events


def mark_every_row_kept(ws: Workspace) -> None:
    """Overwrite a column the fingerprints do not read, in every row of the timeline and the
    features: a row an incremental run recomputes loses the mark, a row it keeps holds it."""
    con = duckdb.connect(str(ws.warehouse))
    try:
        con.execute(f"update int_lead_events_sessionized set campaign = '{KEPT_CAMPAIGN}'")
        con.execute(f"update lead_features set as_of = '{KEPT_AS_OF}'")
    finally:
        con.close()


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory, shared_model: Path) -> Runs:
    ws = with_model(Workspace(tmp_path_factory.mktemp("incremental")), shared_model)
    ws.generate(leads=300)
    ws.dbt(*BUILD)
    first_scored_at = str(ws.sql("select max(scored_at) from lead_scores")[0][0])
    changed, added, removed, new_events = change_inputs(ws.raw)
    full = ws.copy_to(tmp_path_factory.mktemp("full") / "ws")
    marked = ws.copy_to(tmp_path_factory.mktemp("marked") / "ws")
    mark_every_row_kept(marked)
    ws.dbt(*BUILD)
    full.dbt(*BUILD, "--full-refresh")
    marked.dbt(*BUILD)
    return Runs(ws, full, marked, first_scored_at, changed, added, removed, new_events)


def table(ws: Workspace, name: str, exclude: tuple[str, ...] = ()) -> pd.DataFrame:
    frame = ws.df(f"select * from {name} order by lead_id")
    return frame.drop(columns=list(exclude)).sort_index(axis=1).reset_index(drop=True)


def test_incremental_lead_features_equal_a_full_rebuild(runs):
    incremental, full = table(runs.incremental, "lead_features"), table(runs.full, "lead_features")
    assert runs.removed not in set(incremental["lead_id"])
    assert runs.added <= set(incremental["lead_id"])
    pd.testing.assert_frame_equal(incremental, full, rtol=FLOAT_TOLERANCE)


def test_incremental_event_timeline_equals_a_full_rebuild(runs):
    query = "select * from int_lead_events_sessionized order by event_id"
    pd.testing.assert_frame_equal(
        runs.incremental.df(query), runs.full.df(query), rtol=FLOAT_TOLERANCE
    )


def test_incremental_lead_scores_equal_a_full_rebuild(runs):
    # scored_at says which run scored the row: the only column allowed to differ
    incremental = table(runs.incremental, "lead_scores", exclude=("scored_at",))
    full = table(runs.full, "lead_scores", exclude=("scored_at",))
    pd.testing.assert_frame_equal(incremental, full, rtol=FLOAT_TOLERANCE)


def test_incremental_run_rescores_only_the_leads_that_changed(runs):
    rescored = {
        lead_id
        for lead_id, scored_at in runs.incremental.sql("select lead_id, scored_at from lead_scores")
        if str(scored_at) != runs.first_scored_at
    }
    assert rescored == runs.changed | runs.added


def test_incremental_run_recomputes_the_features_of_only_the_leads_that_changed(runs):
    recomputed = {
        lead_id
        for (lead_id,) in runs.marked.sql(
            f"select lead_id from lead_features where as_of != '{KEPT_AS_OF}'"
        )
    }
    assert recomputed == runs.changed | runs.added
    kept = {lead_id for (lead_id,) in runs.marked.sql("select lead_id from lead_features")}
    assert runs.removed not in kept


def test_incremental_run_rebuilds_the_timeline_of_only_the_leads_with_new_events(runs):
    rebuilt = {
        lead_id
        for (lead_id,) in runs.marked.sql(
            "select distinct lead_id from int_lead_events_sessionized "
            f"where campaign is distinct from '{KEPT_CAMPAIGN}'"
        )
    }
    assert rebuilt == runs.new_events
