"""Exports named nothing like the demo build, score and publish: labels and column names as
CRMs write them, converted leads kept out of the work lists, rare and unseen categories told
apart, a backfill at a past as_of, and the project's own unit tests kept out of a user's build.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd

from conftest import BIN, Workspace, append_csv_rows, read_csv_rows, tiny_leads, write_csv

NO_TESTS = ("--exclude-resource-type", "test", "unit_test")
ALLOW_QUARANTINE = "rejected_share_warn: 1, rejected_share_error: 1"

# ------------------------------------------------------------------ labels and column names

NAMES_VARS = (
    "lead_id_column: null, created_at_column: null, label_column: 'Won?', pii_columns: [], "
    "categorical_attributes: [default, order, 'Lead Origin', Company.Size], "
    "numeric_attributes: ['Seat Count']"
)
LABELS = ["yes", "No", "TRUE", "false", "Y", "n", "1", "0", "Won", "LOST", "maybe", ""]


def test_label_texts_read_as_1_or_0_and_reserved_column_names_build(workspace: Workspace):
    rows = [
        {
            "default": f"d{i % 3}",
            "order": f"o{i % 2}",
            "Lead Origin": "API" if i % 2 else "Landing Page",
            "Company.Size": "51-200",
            "Seat Count": 10 + i,
            "Won?": label,
        }
        for i, label in enumerate(LABELS)
    ]
    write_csv(workspace.raw / "leads.csv", rows)
    build = ("build", "--select", "+lead_features", "+rejected_rows", *NO_TESTS)
    workspace.dbt(*build, vars=NAMES_VARS + ", rejected_share_error: 1")
    staged = workspace.df(
        'select lead_id, label, "default", "order", lead_origin, company_size, seat_count '
        "from stg_raw__leads order by seat_count"
    )
    assert staged["label"].tolist() == [1, 0, 1, 0, 1, 0, 1, 0, 1, 0]
    assert staged["lead_origin"].tolist()[:2] == ["Landing Page", "API"]
    rejected = workspace.sql("select reject_reason from rejected_rows order by source_row_number")
    assert rejected == [("label is not 0 or 1",), ("label is not 0 or 1",)]
    features = workspace.sql('select count(*), count("default"), count("order") from lead_features')
    assert features == [(10, 10, 10)]
    # lead_id_column: null gives each row a stable id: the same in a rebuild from scratch
    workspace.dbt(*build, "--full-refresh", vars=NAMES_VARS + ", rejected_share_error: 1")
    again = workspace.df("select lead_id from stg_raw__leads order by seat_count")
    assert again["lead_id"].tolist() == staged["lead_id"].tolist()
    assert staged["lead_id"].nunique() == 10


# ------------------------------------------------------------------ converted and categories


def test_converted_leads_keep_a_row_without_a_tier_and_leave_show(scored_workspace: Workspace):
    ws = scored_workspace
    statuses = dict(
        ws.sql(
            "select is_converted, list(distinct score_status) from lead_scores group by all"
        )
    )
    assert statuses[True] == ["converted"]
    assert "converted" not in statuses[False]
    tiers = dict(ws.sql("select is_converted, count(tier) from lead_scores group by all"))
    assert tiers[True] == 0 and tiers[False] > 0
    open_expected = ws.sql(
        "select sum(expected) from (select round(sum(conversion_probability)) as expected "
        "from lead_scores where not is_converted group by tier)"
    )[0][0]
    converted = ws.sql("select count(*) from lead_scores where is_converted")[0][0]
    shown = ws.run(str(BIN / "leadscore"), "show", "--database", str(ws.warehouse)).stdout
    assert f"({converted:,} converted leads left out)" in shown
    tier_block = shown.split("Tiers of the open leads")[1].split("Champion model")[0]
    rows = re.findall(r"^\s+(\S+)\s+[\d,]+\s+[\d.]+%\s+[\d.]+%\s+([\d,]+)\s*$", tier_block, re.M)
    assert sum(float(expected.replace(",", "")) for _, expected in rows) == open_expected
    assert rows and not {tier for tier, _ in rows} & {"NULL", "None", "converted"}


def test_rare_categories_are_told_apart_from_unseen_ones(tiny_scored: Workspace, tmp_path: Path):
    ws = tiny_scored.copy_to(tmp_path / "ws")
    version = ws.champion()
    path = ws.artifacts / "models" / version / "metadata.json"
    metadata = json.loads(path.read_text())
    job_title = next(f for f in metadata["features"] if f["name"] == "job_title")
    job_title["rare_values"] = ["Intern"]
    path.write_text(json.dumps(metadata))
    extra = tiny_leads(14)[12:]
    extra[0]["job_title"] = "Intern"
    extra[1]["job_title"] = "Chief Vibes Officer"
    append_csv_rows(ws.raw / "leads.csv", extra)
    ws.dbt("build", "--select", "+lead_scores", *NO_TESTS)
    status = dict(ws.sql("select lead_id, score_status from lead_scores"))
    assert status[extra[0]["lead_id"]] == "rare_category"
    assert status[extra[1]["lead_id"]] == "unknown_category"
    converted = {r["lead_id"] for r in read_csv_rows(ws.raw / "conversions.csv")}
    assert {status[lead] for lead in converted} == {"converted"}


# ------------------------------------------------------------------ built-in tests


def test_built_in_unit_tests_are_not_part_of_a_user_build(scored_workspace: Workspace):
    listed = scored_workspace.dbt(
        "ls", "--resource-type", "unit_test", vars="psi_error: 10, categorical_attributes: [x]"
    )
    assert "unit_test:" not in listed.stdout
    assert "No nodes selected" in listed.stdout


def test_built_in_unit_tests_pass_in_development_whatever_the_documented_vars(
    scored_workspace: Workspace, tmp_path: Path
):
    ws = scored_workspace.copy_to(tmp_path / "ws")
    result = ws.dbt(
        "test",
        "--select",
        "test_type:unit",
        check=False,
        vars="leadscore_dev: true, psi_error: 10, psi_warn: 5, session_gap_minutes: 5, "
        "burst_window_hours: 1, segment_auc_gap: 0.9",
    )
    assert result.returncode == 0, result.stdout[-3000:]
    ran = re.search(r"Done\. PASS=(\d+) WARN=0 ERROR=0", result.stdout)
    assert ran and int(ran.group(1)) >= 7, result.stdout[-2000:]


def test_a_backfill_before_the_model_reference_publishes_and_says_why_drift_is_not_judged(
    scored_workspace: Workspace, tmp_path: Path
):
    ws = scored_workspace.copy_to(tmp_path / "ws")
    version = ws.champion()
    metadata = json.loads((ws.artifacts / "models" / version / "metadata.json").read_text())
    first_reference = min(metadata["training_window"]["test"]["cutoffs"])
    past = (pd.Timestamp(first_reference) - pd.Timedelta(days=60)).strftime("%Y-%m-%d %H:%M:%S")
    before = ws.published_files()
    result = ws.dbt("build", "--select", "+tag:scoring", as_of=past, vars=ALLOW_QUARANTINE)
    assert "Drift not judged: as_of" in result.stdout
    # judged, the backfill's features would drift (PSI far above the limit): not compared
    assert re.search(r"PASS score_drift_within_limits", result.stdout)
    assert re.search(r"PASS feature_drift_within_limits", result.stdout)
    assert ws.published_files() != before
    published = ws.sql(
        "select distinct strftime(as_of, '%Y-%m-%d %H:%M:%S') from lead_scores",
        database=ws.published / "leadscore.duckdb",
    )
    assert published == [(past,)]
