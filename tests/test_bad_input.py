"""What a build does with messy exports: each bad row is rejected with a reason, or the build
stops with a message saying what is wrong and what to do; no row is ever dropped silently.

docs/bad_input.md lists the same cases for users.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from conftest import (
    Workspace,
    csv_row_count,
    read_csv_rows,
    tiny_conversions,
    tiny_events,
    tiny_leads,
    with_model,
    write_csv,
    write_tiny_inputs,
)

# Everything a score depends on, plus the audit of rejected rows and its share tests (the
# unit tests check model logic on fixed rows, not inputs: they are left to the other suites).
BUILD = (
    "build", "--select", "+lead_scores", "path:models/staging", "path:models/audit",
    "--exclude-resource-type", "unit_test",
)
NO_TESTS = ("--exclude-resource-type", "test", "unit_test")
# The corpus is mostly bad rows on purpose: only the share tests below use the real limits.
LENIENT = "rejected_share_error: 1"
INPUTS = ("leads", "events", "conversions")


def lead(lead_id: str, note: str, **changes: object) -> dict[str, object]:
    """A clean lead with a note (an extra column, kept in rejected_rows.raw_row) and changes."""
    row = {**tiny_leads(1)[0], "lead_id": lead_id, "email": f"{note}@bad-input.example.com"}
    return {**row, **changes, "note": note}


def event(lead_id: str, note: str, **changes: object) -> dict[str, object]:
    row = {
        "event_id": f"EV-{note}",
        "lead_id": lead_id,
        "occurred_at": "2026-04-01 10:00:00",
        "channel": "web",
        "event_type": "page_view",
        "page_category": "pricing",
        "campaign": None,
        "value": None,
    }
    return {**row, **changes, "note": note}


def conversion(lead_id: str, note: str, **changes: object) -> dict[str, object]:
    return {**{"lead_id": lead_id, "converted_at": "2026-05-01 10:00:00", "amount": 10}, **changes,
            "note": note}


def with_note(rows: list[dict[str, object]]) -> list[dict[str, object]]:
    return [{**row, "note": None} for row in rows]


# (input, note, reason): every bad row of the corpus and the reason it must be rejected with.
REJECTED = [
    ("leads", "empty_lead_id", "missing lead_id"),
    ("leads", "null_lead_id", "missing lead_id"),
    ("leads", "unparseable_created_at", "unparseable created_at"),
    ("leads", "empty_created_at", "missing created_at"),
    ("leads", "created_after_as_of", "created_at after as_of"),
    ("leads", "text_in_numeric", "non-numeric employee_count"),
    ("leads", "overflowing_number", "non-finite employee_count"),
    ("leads", "duplicate_lead", "duplicate lead_id"),
    ("leads", "broken_copy", "non-numeric employee_count"),
    ("events", "event_missing_lead_id", "missing lead_id"),
    ("events", "unparseable_occurred_at", "unparseable occurred_at"),
    ("events", "duplicate_event", "duplicate event"),
    ("events", "event_before_creation", "before the lead was created"),
    ("events", "event_after_as_of", "after as_of"),
    ("events", "event_unknown_lead", "unknown lead_id"),
    ("events", "event_of_rejected_lead", "its lead was rejected"),
    ("events", "text_in_value", "non-numeric value"),
    ("conversions", "conversion_before_creation", "before the lead was created"),
    ("conversions", "conversion_unknown_lead", "unknown lead_id"),
    ("conversions", "unparseable_converted_at", "unparseable converted_at"),
    ("conversions", "later_conversion", "later duplicate conversion"),
    ("conversions", "conversion_after_as_of", "after as_of"),
]
QUOTED_TITLE = 'VP, "Sales"\nEMEA'
UNICODE_INDUSTRY = "Café — Ünïcødé 🚀"
QUOTED_COUNTRY = "Côte d'Ivoire"


def corpus_leads() -> list[dict[str, object]]:
    return [
        *with_note(tiny_leads()),
        lead("", "empty_lead_id"),
        lead("NULL", "null_lead_id"),
        lead("B-DATE", "unparseable_created_at", created_at="31/02/2026 25:61"),
        lead("B-NODATE", "empty_created_at", created_at=""),
        lead("B-FUTURE", "created_after_as_of", created_at="2026-07-01 00:00:00"),
        lead("B-TEXT", "text_in_numeric", employee_count="about 50"),
        lead("B-INF", "overflowing_number", employee_count="1e309"),
        lead("T001", "duplicate_lead", created_at="2026-03-01 00:00:00"),
        # the first copy of D-COPY is broken, the second is fine: the second is kept
        lead("D-COPY", "broken_copy", employee_count="lots"),
        lead("D-COPY", "good_copy", employee_count="77"),
        lead("Q-QUOTED", "quoted_values", job_title=QUOTED_TITLE, industry=UNICODE_INDUSTRY,
             country=QUOTED_COUNTRY),
        lead("U-UNSEEN", "unseen_category", job_title="Chief Vibes Officer"),
        lead("O-OFFSET", "offset_timestamp", created_at="2026-02-01T10:00:00+02:00"),
    ]


def corpus_events(leads: list[dict[str, object]]) -> list[dict[str, object]]:
    clean = with_note(tiny_events(leads[:12]))
    return [
        *clean,
        event("", "event_missing_lead_id"),
        event("T003", "unparseable_occurred_at", occurred_at="yesterday at noon"),
        {**clean[0], "note": "duplicate_event"},
        event("T005", "event_before_creation", occurred_at="2025-12-01 10:00:00"),
        event("T005", "event_after_as_of", occurred_at="2026-06-15 10:00:00"),
        event("GHOST", "event_unknown_lead"),
        event("B-TEXT", "event_of_rejected_lead"),
        event("T002", "text_in_value", value="a while"),
        event("T002", "huge_value", value="1e308"),
        event("T006", "offset_event", occurred_at="2026-03-02T10:00:00Z"),
    ]


def corpus_conversions(leads: list[dict[str, object]]) -> list[dict[str, object]]:
    return [
        *with_note(tiny_conversions(leads[:12])),
        conversion("T004", "conversion_before_creation", converted_at="2025-12-01 00:00:00"),
        conversion("GHOST", "conversion_unknown_lead"),
        conversion("T007", "unparseable_converted_at", converted_at="soon"),
        conversion("T002", "later_conversion", converted_at="2026-05-25 00:00:00"),
        conversion("T010", "conversion_after_as_of", converted_at="2026-06-10 00:00:00"),
    ]


# Rows that do not parse as CSV at all, appended as raw bytes: (note, bytes, reason).
MALFORMED_LEADS = [
    (
        "extra_field",
        b"M-EXTRA,2026-02-01 10:00:00,extra@bad-input.example.com,Manager,51-200,50,Software,"
        b"India,outbound,note,one too many\n",
        "malformed CSV row: 11 fields, the header has 10",
    ),
    (
        "too_few_fields",
        b"M-FEW,2026-02-01 10:00:00\n",
        "malformed CSV row: 2 fields, the header has 10",
    ),
    (
        "invalid_utf8",
        b"M-UTF8,2026-02-01 10:00:00,\xff\xfe@bad-input.example.com,Manager,51-200,50,Software,"
        b"India,outbound,invalid_utf8\n",
        "malformed CSV row: not valid UTF-8",
    ),
]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory, shared_model: Path) -> dict[str, object]:
    """Inputs holding every row-level defect next to clean rows, built twice: with a lenient
    rejected_share_error (it warns), then, in a copy, with the default limits (it fails)."""
    ws = with_model(Workspace(tmp_path_factory.mktemp("bad_input")), shared_model)
    leads = corpus_leads()
    write_csv(ws.raw / "leads.csv", leads)
    write_csv(ws.raw / "events.csv", corpus_events(leads))
    write_csv(ws.raw / "conversions.csv", corpus_conversions(leads))
    malformed_rows = {}
    for note, line, reason in MALFORMED_LEADS:
        malformed_rows[note] = (csv_row_count(ws.raw / "leads.csv") + 2, reason)
        with open(ws.raw / "leads.csv", "ab") as handle:
            handle.write(line)
    lenient = ws.dbt(*BUILD, vars=LENIENT)
    strict_ws = ws.copy_to(tmp_path_factory.mktemp("bad_input_strict"))
    published = strict_ws.published_files()
    # the staging tables and features are already built: rebuild the audit and the scores only
    strict = strict_ws.dbt("build", "--select", "rejected_rows", "lead_scores",
                           vars="rejected_share_error: 0.05", check=False)
    return {
        "ws": ws,
        "lenient": lenient,
        "malformed": malformed_rows,
        "strict": strict,
        "published_before_strict": published,
        "published_after_strict": strict_ws.published_files(),
    }


def rejected_notes(ws: Workspace) -> dict[tuple[str, str], str]:
    rows = ws.sql(
        "select input_name, json_extract_string(raw_row, '$.note'), reject_reason "
        "from rejected_rows where raw_row is not null"
    )
    return {(name, note): reason for name, note, reason in rows if note}


@pytest.mark.parametrize("input_name", INPUTS)
def test_every_raw_row_is_either_staged_or_rejected(corpus, input_name):
    ws = corpus["ws"]
    staged = ws.sql(f"select count(*) from stg_raw__{input_name}")[0][0]
    rejected = ws.sql(
        f"select count(*) from rejected_rows where input_name = '{input_name}'"
    )[0][0]
    assert staged + rejected == csv_row_count(ws.raw / f"{input_name}.csv")


@pytest.mark.parametrize(("input_name", "note", "reason"), REJECTED, ids=[c[1] for c in REJECTED])
def test_bad_row_is_rejected_with_its_reason(corpus, input_name, note, reason):
    assert rejected_notes(corpus["ws"]).get((input_name, note)) == reason


def test_rows_that_do_not_parse_are_rejected_with_their_row_in_the_file(corpus):
    ws = corpus["ws"]
    found = dict(ws.sql(
        "select file_row_number, reject_reason from rejected_rows "
        "where input_name = 'leads' and file_row_number is not null"
    ))
    assert found == dict(corpus["malformed"].values())


def test_clean_rows_are_not_rejected(corpus):
    ws = corpus["ws"]
    rejected = rejected_notes(ws)
    unnoted = ws.sql(
        "select count(*) from rejected_rows "
        "where raw_row is not null and json_extract_string(raw_row, '$.note') is null"
    )
    assert unnoted == [(0,)]
    assert not [key for key in rejected if key[1] in {"good_copy", "huge_value", "offset_event"}]


def test_a_broken_copy_of_a_lead_never_pushes_out_a_good_one(corpus):
    rows = corpus["ws"].sql("select employee_count from stg_raw__leads where lead_id = 'D-COPY'")
    assert rows == [(77.0,)]


def test_a_duplicate_lead_keeps_its_earliest_row(corpus):
    rows = corpus["ws"].sql("select created_at from stg_raw__leads where lead_id = 'T001'")
    assert [str(r[0]) for r in rows] == [str(tiny_leads(2)[1]["created_at"])]


EXTREME_NUMBERS = {"X-HUGE": "1e308", "X-NEGATIVE": "-1e308", "X-LONG": "1234567890" * 3}


@pytest.fixture(scope="module")
def extreme_numbers(
    tmp_path_factory: pytest.TempPathFactory, shared_model: Path
) -> tuple[Workspace, subprocess.CompletedProcess[str]]:
    """Leads whose employee_count is as large as a double gets, or a 30-digit integer."""
    ws = with_model(Workspace(tmp_path_factory.mktemp("extreme")), shared_model)
    leads = [
        *with_note(tiny_leads(4)),
        *(lead(key, "extreme", employee_count=value) for key, value in EXTREME_NUMBERS.items()),
    ]
    write_csv(ws.raw / "leads.csv", leads)
    write_csv(ws.raw / "events.csv", tiny_events(leads[:4]))
    write_csv(ws.raw / "conversions.csv", tiny_conversions(leads[:4]))
    return ws, ws.dbt("build", "--select", "+lead_scores", *NO_TESTS, check=False)


def test_extreme_numbers_are_staged_as_doubles(extreme_numbers):
    ws, _ = extreme_numbers
    rows = dict(
        ws.sql("select lead_id, employee_count from stg_raw__leads where lead_id like 'X-%'")
    )
    assert rows == {lead_id: float(value) for lead_id, value in EXTREME_NUMBERS.items()}


def test_extreme_numbers_are_scored_as_probabilities(extreme_numbers):
    ws, result = extreme_numbers
    assert result.returncode == 0, result.stdout[-3000:]
    rows = ws.sql(
        "select lead_id, conversion_probability, score_status from lead_scores "
        "where lead_id like 'X-%'"
    )
    assert len(rows) == len(EXTREME_NUMBERS)
    assert all(0 <= p <= 1 and status == "ok" for _, p, status in rows)


def test_quotes_commas_newlines_and_unicode_in_categories_arrive_intact(corpus):
    rows = corpus["ws"].sql(
        "select job_title, industry, country from stg_raw__leads where lead_id = 'Q-QUOTED'"
    )
    assert rows == [(QUOTED_TITLE, UNICODE_INDUSTRY, QUOTED_COUNTRY)]


@pytest.mark.parametrize("lead_id", ["U-UNSEEN", "Q-QUOTED"])
def test_categories_never_seen_in_training_score_with_status_unknown_category(corpus, lead_id):
    rows = corpus["ws"].sql(
        f"select conversion_probability, score_status from lead_scores where lead_id = '{lead_id}'"
    )
    assert len(rows) == 1
    probability, status = rows[0]
    assert status == "unknown_category" and 0 <= probability <= 1


def test_timestamps_with_an_offset_are_converted_to_utc(corpus):
    ws = corpus["ws"]
    created = ws.sql("select created_at from stg_raw__leads where lead_id = 'O-OFFSET'")
    occurred = ws.sql("select occurred_at from stg_raw__events where event_id = 'EV-offset_event'")
    assert str(created[0][0]) == "2026-02-01 08:00:00"
    assert str(occurred[0][0]) == "2026-03-02 10:00:00"


def test_rejected_rows_keep_the_raw_row_without_pii(corpus):
    raw = corpus["ws"].sql(
        "select raw_row from rejected_rows where input_name = 'leads' and raw_row is not null"
    )
    assert raw and all("email" not in json.loads(r[0]) for r in raw)
    assert not [r for r in raw if "@bad-input.example.com" in r[0]]


def test_rejects_below_rejected_share_error_warn_and_the_scores_are_published(corpus):
    result = corpus["lenient"]
    assert result.returncode == 0
    assert "Warning in test rejected_share_leads" in result.stdout
    assert (corpus["ws"].published / "lead_scores.parquet").is_file()


def test_rejects_above_rejected_share_error_fail_the_build_and_publish_nothing(corpus):
    result = corpus["strict"]
    assert result.returncode != 0
    assert "Failure in test rejected_share_leads" in result.stdout
    assert "Not publishing lead_scores" in result.stdout
    assert corpus["published_after_strict"] == corpus["published_before_strict"]


# --------------------------------------------------------------------------- stopping cases


def stopped(ws: Workspace) -> str:
    """Runs the build, which must stop; returns what the user sees."""
    result = ws.dbt(*BUILD, check=False)
    output = result.stdout + result.stderr
    assert result.returncode != 0, output[-3000:]
    assert "Traceback" not in output
    return " ".join(output.split())


@pytest.fixture(scope="module")
def breakable(tmp_path_factory: pytest.TempPathFactory, shared_model: Path) -> Workspace:
    """One workspace for the tests below, so dbt parses the project once for all of them."""
    return with_model(Workspace(tmp_path_factory.mktemp("breakable")), shared_model)


@pytest.fixture
def tiny(breakable: Workspace) -> Workspace:
    """The clean tiny inputs, for a test to break one way."""
    write_tiny_inputs(breakable.raw)
    return breakable


def drop_column(path: Path, column: str) -> None:
    write_csv(path, [{k: v for k, v in row.items() if k != column} for row in read_csv_rows(path)])


def test_a_missing_required_column_stops_the_build_naming_file_and_column(tiny):
    drop_column(tiny.raw / "leads.csv", "created_at")
    message = stopped(tiny)
    assert f"{tiny.raw / 'leads.csv'} (leads) is missing required column(s): created_at" in message
    assert "Rename the columns in your export" in message


def test_a_file_with_another_delimiter_gets_a_hint(tiny):
    path = tiny.raw / "leads.csv"
    path.write_text(path.read_text().replace(",", ";"))
    message = stopped(tiny)
    assert "is missing required column(s)" in message
    assert "csv_delimiter" in message


def test_a_repeated_header_column_stops_the_build(tiny):
    path = tiny.raw / "conversions.csv"
    path.write_text(path.read_text().replace("amount", "lead_id", 1))
    message = stopped(tiny)
    assert "has the column 'lead_id' more than once" in message


def test_a_leads_file_with_only_a_header_stops_the_build(tiny):
    path = tiny.raw / "leads.csv"
    path.write_text(path.read_text().splitlines()[0] + "\n")
    message = stopped(tiny)
    assert f"{path} (leads) has no readable rows" in message


def test_an_empty_events_file_stops_the_build(tiny):
    (tiny.raw / "events.csv").write_bytes(b"")
    message = stopped(tiny)
    assert "(events) is empty" in message and "delete the file" in message


def test_an_unclosed_quote_stops_the_build_naming_the_row(tiny):
    path = tiny.raw / "conversions.csv"
    rows = csv_row_count(path)
    with open(path, "a") as handle:
        handle.write('T000,"2026-05-21 00:00:00,5\nT001,2026-05-21 00:00:00,5\n')
    message = stopped(tiny)
    assert f"{path} (conversions): a quoted value at row {rows + 2}" in message
    assert "Fix the quoting" in message


def test_an_events_file_with_only_a_header_scores_on_attributes_alone(tiny):
    path = tiny.raw / "events.csv"
    path.write_text(path.read_text().splitlines()[0] + "\n")
    result = tiny.dbt("build", "--select", "+lead_scores", *NO_TESTS)
    assert "(events) has no rows" in result.stdout
    rows = tiny.sql("select count(*), count(conversion_probability) from lead_scores")
    assert rows == [(12, 12)]
    assert tiny.sql("select max(activities_total) from lead_features") == [(0,)]
