"""PII columns (var pii_columns) are hashed with a secret salt in staging and never reach a mart,
the audit of rejected rows, or the published files."""

from __future__ import annotations

import hashlib
from pathlib import Path

import duckdb
import pytest

from conftest import Workspace, tiny_conversions, tiny_events, tiny_leads, with_model, write_csv

SALT = "pepper-for-tests"
PII_VARS = "pii_columns: [email, phone]"


def pii_leads() -> list[dict[str, object]]:
    """Tiny leads with PII under upper-case headers, a phone number, and a few rejected rows."""
    leads = [
        {**lead, "phone": f"+1 555 01{i:02d}"}
        for i, lead in enumerate(tiny_leads(8))
    ]
    leads[6]["employee_count"] = "a lot"  # rejected: its raw row goes to rejected_rows
    leads[7]["lead_id"] = leads[0]["lead_id"]  # rejected as a duplicate
    return [{("EMAIL" if k == "email" else k): v for k, v in lead.items()} for lead in leads]


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory, shared_model: Path) -> Workspace:
    """Everything built and published from inputs full of PII, some of it rejected."""
    ws = Workspace(tmp_path_factory.mktemp("pii"), {"LEADSCORE_PII_SALT": SALT})
    with_model(ws, shared_model)
    leads = pii_leads()
    write_csv(ws.raw / "leads.csv", leads)
    events = tiny_events(tiny_leads(8))
    # an events export that carries the email too, with one event of an unknown lead
    events.append({**events[0], "event_id": "E-GHOST", "lead_id": "GHOST"})
    write_csv(ws.raw / "events.csv", [{**e, "email": "ghost.visitor@tiny-example.com"}
                                      for e in events])
    write_csv(ws.raw / "conversions.csv", tiny_conversions(tiny_leads(8)))
    with open(ws.raw / "leads.csv", "a") as handle:  # a row that does not even parse
        handle.write("T999,2026-02-01 10:00:00,malformed.row@tiny-example.com,+1 555 0199\n")
    ws.dbt("build", "--select", "+lead_scores", "+rejected_rows", "+lead_training_set",
           "--exclude-resource-type", "test", "unit_test", vars=PII_VARS)
    return ws


def raw_pii(ws: Workspace) -> set[str]:
    """Every email and phone number in the raw files, lower-cased."""
    values = {"ghost.visitor@tiny-example.com", "malformed.row@tiny-example.com", "+1 555 0199"}
    for lead in pii_leads():
        values |= {str(lead["EMAIL"]).lower(), str(lead["phone"]).lower()}
    return values


def relations(con: duckdb.DuckDBPyConnection, skip_schema: str = "") -> list[str]:
    rows = con.execute(
        "select table_schema, table_name from information_schema.tables "
        "where table_schema != ? and table_catalog = current_database()",
        [skip_schema],
    ).fetchall()
    return [f'"{schema}"."{name}"' for schema, name in rows]


def pii_found(con: duckdb.DuckDBPyConnection, relation: str, needles: set[str]) -> list[str]:
    """'relation: value' for every cell of relation that contains a needle."""
    found = []
    for row in con.execute(f"select * from {relation}").fetchall():
        for value in row:
            text = str(value).lower()
            found += [f"{relation}: {n}" for n in needles if n in text]
    return found


def test_the_scan_would_find_pii_where_it_is_allowed(built):
    """The raw schema holds the files as they are, so the scan below can find what it seeks."""
    con = duckdb.connect(str(built.warehouse), read_only=True)
    try:
        assert pii_found(con, '"leadscore_raw"."leads"', raw_pii(built))
    finally:
        con.close()


def test_no_pii_in_any_table_or_view_of_the_warehouse_outside_the_raw_schema(built):
    con = duckdb.connect(str(built.warehouse), read_only=True)
    try:
        names = relations(con, skip_schema="leadscore_raw")
        assert '"main"."lead_scores"' in names and '"main"."rejected_rows"' in names
        assert [hit for name in names for hit in pii_found(con, name, raw_pii(built))] == []
    finally:
        con.close()


def test_no_pii_in_the_published_files(built):
    con = duckdb.connect(str(built.published / "leadscore.duckdb"), read_only=True)
    try:
        hits = [hit for name in relations(con) for hit in pii_found(con, name, raw_pii(built))]
        parquet = f"'{built.published / 'lead_scores.parquet'}'"
        hits += pii_found(con, parquet, raw_pii(built))
    finally:
        con.close()
    assert hits == []


def test_rejected_rows_are_kept_without_their_pii(built):
    reasons = {r[0] for r in built.sql("select reject_reason from rejected_rows")}
    assert {"non-numeric employee_count", "duplicate lead_id", "unknown lead_id"} <= reasons
    assert any(reason.startswith("malformed CSV row") for reason in reasons)


def salted(value: str) -> str:
    return hashlib.sha256((SALT + value.strip().lower()).encode()).hexdigest()


def test_pii_columns_are_hashed_with_the_salt_in_staging(built):
    rows = built.sql("select lead_id, email_hash, phone_hash from stg_raw__leads")
    leads = {lead["lead_id"]: lead for lead in pii_leads()[:6]}
    assert {r[0] for r in rows} == set(leads)
    for lead_id, email_hash, phone_hash in rows:
        assert email_hash == salted(str(leads[lead_id]["EMAIL"]))
        assert phone_hash == salted(str(leads[lead_id]["phone"]))
