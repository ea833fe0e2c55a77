"""Point-in-time features, training labels, flat exports and PII handling, on real dbt builds."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import duckdb
import numpy as np
import pandas as pd
import pytest
import yaml

from conftest import (
    DEMO_AS_OF,
    Workspace,
    append_csv_rows,
    read_csv_rows,
    write_csv,
)
from leadscore.config import dbt_vars
from leadscore.workspace import ROOT

# The point-in-time builds: a cutoff X inside the data, and the data's end A.
CUTOFF_X = "2026-01-01 00:00:00"
END_A = DEMO_AS_OF
FEATURE_MODELS = ("--select", "+lead_features", "+lead_training_set")
NO_TESTS = ("--exclude-resource-type", "test", "unit_test")
OTHER_SALT = "another-salt"


def build_features(ws: Workspace, as_of: str) -> None:
    ws.dbt("build", *FEATURE_MODELS, *NO_TESTS, as_of=as_of)


def table(ws: Workspace, query: str) -> pd.DataFrame:
    return ws.df(query).reset_index(drop=True)


# --------------------------------------------------------------------------- point in time


def late_events(lead_ids: list[str]) -> list[dict[str, object]]:
    """Events at exactly X, just after it, weeks after it, and after the end of the data."""
    x = datetime.fromisoformat(CUTOFF_X)
    a = datetime.fromisoformat(END_A)
    moments = [
        (x, "web", "page_view", "pricing"),
        (x, "form", "form_submit", "demo"),
        (x + timedelta(seconds=1), "content", "download", None),
        (x + timedelta(days=1, hours=10), "email", "email_open", None),
        (x + timedelta(days=3), "sales", "meeting", None),
        (x + timedelta(days=20), "web", "page_view", "demo"),
        (a + timedelta(days=1), "web", "page_view", "pricing"),
    ]
    return [
        {
            "event_id": f"LATE-{lead_id}-{i}",
            "lead_id": lead_id,
            "occurred_at": when.strftime("%Y-%m-%d %H:%M:%S"),
            "channel": channel,
            "event_type": event_type,
            "page_category": page,
            "campaign": "late_campaign",
        }
        for lead_id in lead_ids
        for i, (when, channel, event_type, page) in enumerate(moments)
    ]


def clone_id(lead_id: str) -> str:
    return f"{lead_id}-clone"


@pytest.fixture(scope="module")
def point_in_time(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """Generated leads plus exact clones of a few of them; only the clones get late events.

    Built once as of X and once as of A: a feature that saw the late events would tell a clone
    from its original. The build as of A also runs with another PII salt, which only the email
    hashes may notice.
    """
    source = Workspace(tmp_path_factory.mktemp("pit_source"))
    source.generate(leads=150, seed=11)
    leads = read_csv_rows(source.raw / "leads.csv")
    events = read_csv_rows(source.raw / "events.csv")
    converted = {row["lead_id"] for row in read_csv_rows(source.raw / "conversions.csv")}
    # leads that exist before X and never convert, so they sit in every later cutoff too
    chosen = [
        row["lead_id"]
        for row in leads
        if row["created_at"] < CUTOFF_X and row["lead_id"] not in converted
    ][:8]
    clones = [clone_id(lead_id) for lead_id in chosen]
    append_csv_rows(
        source.raw / "leads.csv",
        [{**row, "lead_id": clone_id(row["lead_id"])} for row in leads if row["lead_id"] in chosen],
    )
    # same-length ids keep the clone's events in the original's order on timestamp ties
    cloned_events = [
        {**row, "event_id": f"{row['event_id']}-clone", "lead_id": clone_id(row["lead_id"])}
        for row in events
        if row["lead_id"] in chosen
    ]
    append_csv_rows(source.raw / "events.csv", cloned_events + late_events(clones))

    builds = {}
    for label, as_of in (("x", CUTOFF_X), ("a", END_A)):
        builds[label] = source.copy_to(source.root.with_name(f"pit_at_{label}"))
        if label == "a":
            builds[label].extra_env["LEADSCORE_PII_SALT"] = OTHER_SALT
        build_features(builds[label], as_of)
    return {"builds": builds, "chosen": chosen}


def originals_and_clones(frame: pd.DataFrame, chosen: list[str]) -> tuple[pd.DataFrame, ...]:
    """The chosen leads' rows and their clones' rows, keyed and ordered alike."""
    # lead_fingerprint hashes a lead's own inputs, its id included: bookkeeping, not a feature
    frame = frame.drop(columns=["lead_fingerprint"], errors="ignore")
    originals = frame[frame["lead_id"].isin(chosen)]
    clones = frame[frame["lead_id"].isin([clone_id(c) for c in chosen])].assign(
        lead_id=lambda f: f["lead_id"].str.removesuffix("-clone")
    )
    key = ["lead_id", "as_of"]
    # the training set keeps a sample of a long-open lead's calendar cutoffs, drawn per lead id:
    # compare the (lead, cutoff) rows that a lead and its clone both have
    both = originals[key].merge(clones[key], on=key)
    originals, clones = (part.merge(both, on=key) for part in (originals, clones))
    return tuple(part.sort_values(key).reset_index(drop=True) for part in (originals, clones))


def test_lead_features_ignore_events_at_or_after_as_of(point_in_time):
    chosen = point_in_time["chosen"]
    frame = point_in_time["builds"]["x"].df("select * from lead_features")
    originals, clones = originals_and_clones(frame, chosen)
    assert len(originals) == len(chosen) == 8
    pd.testing.assert_frame_equal(originals, clones, check_exact=False, rtol=1e-12)


def test_every_built_feature_column_is_documented_once(point_in_time):
    """The columns _features__models.yml lists are the columns the models build (with the
    project's default vars), and the training set reuses the features' entries."""
    path = ROOT / "models" / "marts" / "features" / "_features__models.yml"
    documented = {
        model["name"]: [column["name"] for column in model["columns"]]
        for model in yaml.safe_load(path.read_text())["models"]
    }
    ws = point_in_time["builds"]["a"]
    for model, columns in documented.items():
        built = [row[0] for row in ws.sql(f"describe {model}")]
        assert sorted(built) == sorted(columns), (model, set(built) ^ set(columns))
    shared = set(documented["lead_features"]) & set(documented["lead_training_set"])
    text = path.read_text()
    # lead_id is unique in lead_features only, so its entries differ
    copied = [n for n in shared - {"lead_id"} if text.count(f"name: {n}\n") > 1]
    assert copied == [], "described twice: reuse the lead_features entry (*name)"


def test_training_rows_ignore_events_at_or_after_their_cutoff(point_in_time):
    chosen = point_in_time["chosen"]
    frame = point_in_time["builds"]["a"].df(
        f"select * from lead_training_set where as_of <= timestamp '{CUTOFF_X}'"
    )
    originals, clones = originals_and_clones(frame, chosen)
    assert len(originals) > len(chosen)  # several cutoffs up to X
    pd.testing.assert_frame_equal(originals, clones, check_exact=False, rtol=1e-12)


def test_events_before_a_cutoff_do_change_its_features(point_in_time):
    # guards the two tests above against passing because the late events were dropped
    chosen = point_in_time["chosen"]
    frame = point_in_time["builds"]["a"].df(
        f"""
        select lead_id, as_of, activities_total, high_intent_signals_90d
        from lead_training_set
        where as_of > timestamp '{CUTOFF_X}'
        """
    )
    originals, clones = originals_and_clones(frame, chosen)
    assert len(originals) == len(clones) > 0
    # six late events fall in [X, X + 20 days], four of them high intent; the last is after A
    assert ((clones["activities_total"] - originals["activities_total"]) == 6).all()
    assert (
        (clones["high_intent_signals_90d"] - originals["high_intent_signals_90d"]) == 4
    ).all()


# --------------------------------------------------------------------------- labels


def raw_training_labels(ws: Workspace, rows: pd.DataFrame, window_days: int) -> pd.DataFrame:
    """The label of each (lead, cutoff) row, and whether it may be a row, from the raw files."""
    leads = pd.DataFrame(read_csv_rows(ws.raw / "leads.csv"))
    conversions = pd.DataFrame(read_csv_rows(ws.raw / "conversions.csv"))
    created = pd.to_datetime(leads.set_index("lead_id")["created_at"])
    converted = pd.to_datetime(conversions["converted_at"]).groupby(conversions["lead_id"]).min()
    cutoff = pd.to_datetime(rows["as_of"])
    created_at = rows["lead_id"].map(created)
    converted_at = rows["lead_id"].map(converted)
    return rows.assign(
        label=((converted_at >= cutoff) & (converted_at < cutoff + pd.Timedelta(days=window_days)))
        .astype(int)
        .values,
        eligible=((created_at < cutoff) & ~(converted_at < cutoff)).values,
    )


def test_no_training_row_belongs_to_a_lead_converted_before_its_cutoff(point_in_time):
    ws = point_in_time["builds"]["a"]
    rows = table(ws, "select lead_id, as_of from lead_training_set")
    conversions = pd.DataFrame(read_csv_rows(ws.raw / "conversions.csv"))
    conversions["converted_at"] = pd.to_datetime(conversions["converted_at"])
    joined = rows.merge(conversions, on="lead_id")
    assert (joined["converted_at"] < rows["as_of"].max()).any(), "some lead converts in time"
    assert not (joined["converted_at"] < joined["as_of"]).any()


def test_labels_are_conversions_within_the_label_window_after_the_cutoff(point_in_time):
    ws = point_in_time["builds"]["a"]
    query = "select lead_id, as_of, label from lead_training_set order by as_of, lead_id"
    actual = table(ws, query)
    window_days = int(dbt_vars()["label_window_days"])
    cutoffs = sorted(actual["as_of"].unique())
    # every label window has fully passed by the build's as_of
    assert max(cutoffs) + pd.Timedelta(days=window_days) <= pd.Timestamp(END_A)
    expected = raw_training_labels(ws, actual[["lead_id", "as_of"]], window_days)
    assert expected["eligible"].all()
    assert actual["label"].sum() > 0
    assert (actual["label"].astype(int).values == expected["label"].values).all()


# --------------------------------------------------------------------------- flat export

FLAT_VARS = (
    "lead_id_column: id, created_at_column: null, label_column: converted, "
    "categorical_attributes: [plan, region], numeric_attributes: [seats], pii_columns: []"
)


def flat_leads(n: int = 400, seed: int = 5) -> list[dict[str, object]]:
    """A CRM export with attributes and a 0/1 outcome, no timestamps, no events."""
    rng = np.random.default_rng(seed)
    plans = np.array(["free", "team", "business", "enterprise"])
    plan_effect = np.array([-1.5, -0.3, 0.6, 1.2])
    plan = rng.integers(0, len(plans), n)
    region = rng.choice(["emea", "amer", "apac"], n)
    seats = rng.integers(1, 500, n)
    logit = -1.2 + plan_effect[plan] + 0.002 * seats
    converted = rng.random(n) < 1 / (1 + np.exp(-logit))
    return [
        {
            "id": f"F{i:05d}",
            "plan": plans[plan[i]],
            "region": region[i],
            "seats": int(seats[i]),
            "converted": int(converted[i]),
        }
        for i in range(n)
    ]


@pytest.fixture(scope="module")
def flat_export(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    ws = Workspace(tmp_path_factory.mktemp("flat"))
    write_csv(ws.raw / "leads.csv", flat_leads())
    ws.dbt("build", "--exclude", "tag:scoring", vars=FLAT_VARS)
    return ws


def test_flat_export_builds_one_feature_row_per_lead(flat_export):
    ws = flat_export
    assert sorted(p.name for p in ws.raw.iterdir()) == ["leads.csv"]
    rows = ws.sql(
        "select count(*), count(distinct lead_id), count(plan), count(seats) from lead_features"
    )
    assert rows == [(400, 400, 400, 400)]


def test_flat_export_training_set_carries_the_label_column(flat_export):
    ws = flat_export
    raw = {row["id"]: int(row["converted"]) for row in read_csv_rows(ws.raw / "leads.csv")}
    labels = dict(ws.sql("select lead_id, label from lead_training_set"))
    assert labels == raw


def test_flat_export_trains_with_a_stratified_split(flat_export):
    ws = flat_export
    result = ws.train()
    assert "stratified" in result.stderr
    version = ws.champion()
    assert version is not None
    metadata = json.loads((ws.artifacts / "models" / version / "metadata.json").read_text())
    assert metadata["metrics"]["split"] == "stratified"
    assert {"plan", "region", "seats"} <= {f["name"] for f in metadata["features"]}


# --------------------------------------------------------------------------- sequence features

TIMELINE_AS_OF = "2026-03-01 00:00:00"


def lead(lead_id: str, email: str) -> dict[str, object]:
    return {
        "lead_id": lead_id,
        "created_at": "2026-01-05 09:00:00",
        "email": email,
        "job_title": "Manager",
        "company_size": "51-200",
        "employee_count": 120,
        "industry": "Software",
        "country": "Germany",
        "lead_source": "organic",
    }


def event(
    lead_id: str, when: str, channel: str, event_type: str, page: str | None = None
) -> dict[str, object]:
    return {
        "event_id": f"{lead_id}@{when}",
        "lead_id": lead_id,
        "occurred_at": when,
        "channel": channel,
        "event_type": event_type,
        "page_category": page,
    }


TIMELINE_LEADS = [
    lead("download_then_pricing", "Ana.Lima@Example.com"),
    lead("pricing_then_download", "  ana.lima@example.com "),
    lead("three_sessions_in_48h", "bo.chen@example.org"),
    lead("three_sessions_in_5_days", "cy.diaz@example.net"),
    lead("one_session", "dee.eze@example.com"),
    lead("two_sessions", "eli.fox@example.com"),
    lead("no_events", "fay.gil@example.com"),
]
TIMELINE_EVENTS = [
    event("download_then_pricing", "2026-02-02 10:00:00", "content", "download"),
    event("download_then_pricing", "2026-02-04 10:00:00", "web", "page_view", "pricing"),
    event("pricing_then_download", "2026-02-02 10:00:00", "web", "page_view", "pricing"),
    event("pricing_then_download", "2026-02-04 10:00:00", "content", "download"),
    event("three_sessions_in_48h", "2026-02-10 09:00:00", "web", "page_view", "home"),
    event("three_sessions_in_48h", "2026-02-10 20:00:00", "web", "page_view", "blog"),
    event("three_sessions_in_48h", "2026-02-11 15:00:00", "web", "page_view", "docs"),
    event("three_sessions_in_5_days", "2026-02-01 09:00:00", "web", "page_view", "home"),
    event("three_sessions_in_5_days", "2026-02-02 12:00:00", "web", "page_view", "blog"),
    event("three_sessions_in_5_days", "2026-02-06 09:00:00", "web", "page_view", "docs"),
    event("one_session", "2026-02-16 10:00:00", "web", "page_view", "home"),
    event("one_session", "2026-02-16 10:20:00", "web", "page_view", "blog"),
    event("one_session", "2026-02-16 10:40:00", "web", "page_view", "docs"),
    event("one_session", "2026-02-16 11:00:00", "web", "page_view", "case_study"),
    event("two_sessions", "2026-02-16 10:00:00", "web", "page_view", "home"),
    event("two_sessions", "2026-02-16 10:31:00", "web", "page_view", "blog"),
]


@pytest.fixture(scope="module")
def timeline(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    ws = Workspace(tmp_path_factory.mktemp("timeline"))
    write_csv(ws.raw / "leads.csv", TIMELINE_LEADS)
    write_csv(ws.raw / "events.csv", TIMELINE_EVENTS)
    ws.dbt("build", "--select", "+lead_features", *NO_TESTS, as_of=TIMELINE_AS_OF)
    return ws


def features_of(ws: Workspace, *columns: str) -> dict[str, dict[str, object]]:
    frame = ws.df(f"select lead_id, {', '.join(columns)} from lead_features")
    return frame.set_index("lead_id").to_dict(orient="index")


def test_pricing_view_after_a_download_is_flagged(timeline):
    rows = features_of(timeline, "has_pricing_after_download", "has_pricing_before_download")
    assert rows["download_then_pricing"] == {
        "has_pricing_after_download": 1,
        "has_pricing_before_download": 0,
    }
    assert rows["pricing_then_download"] == {
        "has_pricing_after_download": 0,
        "has_pricing_before_download": 1,
    }
    assert rows["no_events"]["has_pricing_after_download"] == 0


def test_three_sessions_within_48_hours_are_a_burst(timeline):
    rows = features_of(
        timeline, "sessions_total", "max_sessions_in_burst_window", "has_session_burst"
    )
    assert rows["three_sessions_in_48h"] == {
        "sessions_total": 3,
        "max_sessions_in_burst_window": 3,
        "has_session_burst": 1,
    }
    assert rows["three_sessions_in_5_days"] == {
        "sessions_total": 3,
        "max_sessions_in_burst_window": 2,
        "has_session_burst": 0,
    }


def test_actions_20_minutes_apart_are_one_session(timeline):
    rows = features_of(timeline, "sessions_total", "actions_per_session")
    assert rows["one_session"] == {"sessions_total": 1, "actions_per_session": 4.0}
    # a gap of 31 minutes (more than session_gap_minutes) starts a new session
    assert rows["two_sessions"] == {"sessions_total": 2, "actions_per_session": 1.0}


def test_steps_and_hours_to_the_first_high_intent_action(timeline):
    rows = features_of(
        timeline,
        "steps_to_first_high_intent",
        "hours_to_first_high_intent",
        "days_since_last_activity",
        "first_touch_channel",
        "last_touch_channel",
        "unique_channels",
    )
    assert rows["download_then_pricing"] == {
        "steps_to_first_high_intent": 1,
        "hours_to_first_high_intent": 48.0,
        "days_since_last_activity": pytest.approx(24 + 14 / 24),
        "first_touch_channel": "content",
        "last_touch_channel": "web",
        "unique_channels": 2,
    }


def test_a_lead_without_events_has_zero_counts_and_null_recency(timeline):
    row = features_of(
        timeline,
        "activities_total",
        "sessions_total",
        "days_since_last_activity",
        "days_since_created",
    )["no_events"]
    assert row["activities_total"] == 0
    assert row["sessions_total"] == 0
    assert pd.isna(row["days_since_last_activity"])
    assert row["days_since_created"] == pytest.approx(54 + 15 / 24)


# --------------------------------------------------------------------------- PII


def relations_holding(ws: Workspace, needles: list[str]) -> dict[str, set[str]]:
    """Every relation of the warehouse, and which of the needles appear in any of its values."""
    con = duckdb.connect(str(ws.warehouse), read_only=True)
    try:
        names = con.execute(
            "select distinct table_schema, table_name from information_schema.tables"
        ).fetchall()
        found = {}
        for schema, name in names:
            text = " ".join(
                str(value).lower()
                for row in con.execute(f'select * from "{schema}"."{name}"').fetchall()
                for value in row
            )
            found[f"{schema}.{name}"] = {needle for needle in needles if needle in text}
        return found
    finally:
        con.close()


def test_raw_email_never_reaches_staging_or_marts(timeline):
    needles = sorted({str(row["email"]).strip().lower() for row in TIMELINE_LEADS})
    found = relations_holding(timeline, needles)
    # the raw input view holds the addresses, so the search does see them where they are
    assert found.pop("leadscore_raw.leads") == set(needles)
    assert {"main.stg_raw__leads", "main.base_raw__leads", "main.lead_features"} <= set(found)
    assert {name: hits for name, hits in found.items() if hits} == {}
    columns = timeline.sql(
        "select column_name from information_schema.columns where table_schema != 'leadscore_raw'"
    )
    assert ("email",) not in columns and ("email_hash",) in columns


def test_email_hash_is_normalised(timeline):
    hashes = dict(timeline.sql("select lead_id, email_hash from stg_raw__leads"))
    assert all(len(h) == 64 for h in hashes.values())
    # the same address, differently cased and padded, is one person
    assert hashes["download_then_pricing"] == hashes["pricing_then_download"]
    assert len(set(hashes.values())) == len(TIMELINE_LEADS) - 1


def test_pii_salt_changes_the_email_hash(point_in_time):
    query = "select lead_id, email_hash from stg_raw__leads"
    default = dict(point_in_time["builds"]["x"].sql(query))
    salted = dict(point_in_time["builds"]["a"].sql(query))
    assert len(default) > 50 and set(default) <= set(salted)
    assert all(salted[lead] != hashed for lead, hashed in default.items())
