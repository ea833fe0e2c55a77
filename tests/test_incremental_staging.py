"""Incremental staging: base_raw__events types only the raw event rows it has not seen, yet
after edits, removals, cross-lead duplicates, changed leads and a later as_of it holds exactly
what a full rebuild holds, and so do stg_raw__events and rejected_rows."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest

from conftest import Workspace, read_csv_rows, write_csv

BUILD = (
    "build",
    "--select",
    "+stg_raw__events",
    "+rejected_rows",
    "--exclude-resource-type",
    "test",
    "unit_test",
)
FIRST_AS_OF = "2026-05-20 00:00:00"
LATER_AS_OF = "2026-06-01 00:00:00"


@dataclass
class Runs:
    incremental: Workspace
    full: Workspace
    untouched_row: int  # source row of an event the change does not touch
    touched: dict[str, str]  # what each change did, by name: the event_id it touched


def change_inputs(raw: Path) -> dict[str, str]:
    """Change events and leads in every way that moves a row's reject_reason."""
    events = read_csv_rows(raw / "events.csv")
    leads = read_csv_rows(raw / "leads.csv")
    old = [event for event in events if event["occurred_at"] < "2026-05-01"]
    touched: dict[str, str] = {}

    # an edited row in the middle of the file: the event moves to another channel
    edited = old[10]
    edited["channel"] = "sales" if edited["channel"] != "sales" else "web"
    touched["edited"] = edited["event_id"]
    # a removed row whose event_id has no other copy: the event must disappear (near the end
    # of the file: every row after a removed one moves up, so it counts as new)
    removed = events[-3]
    touched["removed"] = removed["event_id"]
    # a later copy of an event under another lead: rejected as a duplicate
    original = old[30]
    other_lead = next(lead["lead_id"] for lead in leads if lead["lead_id"] != original["lead_id"])
    touched["duplicated"] = original["event_id"]
    # an event whose first copy is broken and whose later, usable copy arrives now: the new
    # copy is kept, the broken one rejected as unparseable
    broken = old[40]
    broken["occurred_at"] = "not a time"
    touched["repaired"] = broken["event_id"]
    repaired = {**broken, "occurred_at": "2026-04-30 10:00:00"}
    # an event without an event_id, edited: its hashed id changes
    nameless = events[-2]
    nameless["event_id"] = ""
    nameless_edited = {**nameless, "campaign": "spring"}
    touched["nameless"] = nameless["lead_id"]

    kept = [event for event in events if event is not removed and event is not nameless]
    appended = [{**original, "lead_id": other_lead}, repaired, nameless_edited]
    write_csv(raw / "events.csv", kept + appended)

    # leads: one rejected (unparseable created_at), one created later than some of its
    # events, one removed from the export
    by_lead: dict[str, list[dict[str, str]]] = {}
    for event in old:
        by_lead.setdefault(event["lead_id"], []).append(event)
    touched_events = (edited, removed, original, broken, nameless)
    spoken_for = {event["lead_id"] for event in touched_events} | {other_lead}
    busy = [
        lead for lead in leads
        if len(by_lead.get(lead["lead_id"], [])) >= 3 and lead["lead_id"] not in spoken_for
    ][:3]
    rejected, moved, gone = busy
    rejected["created_at"] = "yesterday"
    moved["created_at"] = sorted(e["occurred_at"] for e in by_lead[moved["lead_id"]])[1]
    touched.update(rejected=rejected["lead_id"], moved=moved["lead_id"], gone=gone["lead_id"])
    write_csv(raw / "leads.csv", [lead for lead in leads if lead is not gone])
    return touched


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Runs:
    ws = Workspace(tmp_path_factory.mktemp("staging"))
    ws.generate(leads=200)
    ws.dbt(*BUILD, as_of=FIRST_AS_OF)
    touched = change_inputs(ws.raw)
    # a row no change touches, and whose check the later as_of does not move
    untouched_row = ws.sql(
        "select min(source_row_number) from base_raw__events "
        "where reject_reason is null and occurred_at < '2026-04-01' "
        f"and lead_id not in ('{touched['rejected']}', '{touched['moved']}', '{touched['gone']}')"
    )[0][0]
    full = ws.copy_to(tmp_path_factory.mktemp("staging-full") / "ws")
    ws.dbt(*BUILD, as_of=LATER_AS_OF)
    full.dbt(*BUILD, "--full-refresh", as_of=LATER_AS_OF)
    return Runs(ws, full, untouched_row, touched)


def rows(ws: Workspace, query: str) -> pd.DataFrame:
    return ws.df(query).reset_index(drop=True)


def test_incremental_staging_equals_a_full_rebuild(runs):
    # checked_as_of says when a row was last checked: the only column allowed to differ
    query = "select * exclude (checked_as_of) from base_raw__events order by source_row_number"
    incremental, full = rows(runs.incremental, query), rows(runs.full, query)
    assert len(incremental) == len(full)
    pd.testing.assert_frame_equal(incremental, full)


@pytest.mark.parametrize(
    "query",
    [
        "select * from stg_raw__events order by event_id",
        # as_of in rejected_rows is the run's own
        "select * exclude (as_of) from rejected_rows order by input_name, source_row_number",
    ],
)
def test_incremental_staged_and_rejected_rows_equal_a_full_rebuild(runs, query):
    pd.testing.assert_frame_equal(rows(runs.incremental, query), rows(runs.full, query))


def test_each_change_moves_the_rows_it_should(runs):
    ws, touched = runs.incremental, runs.touched

    def reasons(where: str) -> list:
        return [r[0] for r in ws.sql(
            f"select reject_reason from base_raw__events where {where} order by source_row_number"
        )]

    assert reasons(f"event_id = '{touched['removed']}'") == []
    assert reasons(f"event_id = '{touched['duplicated']}'") == [None, "duplicate event"]
    assert reasons(f"event_id = '{touched['repaired']}'") == ["unparseable occurred_at", None]
    assert set(reasons(f"lead_id = '{touched['rejected']}'")) == {"its lead was rejected"}
    assert set(reasons(f"lead_id = '{touched['gone']}'")) == {"unknown lead_id"}
    assert "before the lead was created" in reasons(f"lead_id = '{touched['moved']}'")
    # events between the two as_of values were quarantined, and are now usable
    assert ws.sql(
        f"select count(*) from base_raw__events where occurred_at >= '{FIRST_AS_OF}' "
        "and reject_reason = 'after as_of'"
    )[0][0] == 0


def test_incremental_run_rechecks_only_the_rows_it_must(runs):
    ws = runs.incremental
    checked = dict(ws.sql(
        "select cast(checked_as_of as varchar), count(*) from base_raw__events group by all"
    ))
    # most rows were left as they were built, checked against the first as_of
    assert checked[FIRST_AS_OF] > 0.9 * sum(checked.values())
    assert 0 < checked[LATER_AS_OF] < 0.1 * sum(checked.values())
    untouched = ws.sql(
        "select cast(checked_as_of as varchar) from base_raw__events "
        f"where source_row_number = {runs.untouched_row}"
    )[0][0]
    assert untouched == FIRST_AS_OF
