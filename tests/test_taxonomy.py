"""The event taxonomy decides what events mean: an export with its own vocabulary, mapped in
its own taxonomy file, gets every behavioural feature and scores as well as the demo's names;
events no taxonomy row matches are counted and named; `leadscore check` says all this before
any build."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
import yaml

from conftest import BIN, ROOT, Workspace, append_csv_rows, write_tiny_inputs

EXAMPLE = ROOT / "examples" / "activity_log"
NON_BEHAVIOUR = {"days_since_created"}


def example_vars() -> str:
    """examples/activity_log/vars.yml as the inside of a --vars mapping."""
    settings = yaml.safe_load((EXAMPLE / "vars.yml").read_text())
    return yaml.safe_dump(settings, default_flow_style=True, width=10_000).strip()[1:-1]


@pytest.fixture(scope="module")
def other_vocabulary(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    """The demo data of scored_workspace (same seed) written as another CRM names things,
    built through examples/activity_log and trained the same way."""
    ws = Workspace(tmp_path_factory.mktemp("activity_log"))
    # Workspace.generate's data (scored_workspace's) under other names
    ws.run(
        str(BIN / "leadscore"), "generate", "--leads", "1500", "--seed", "7", "--end",
        "2026-06-01", "--months", "12", "--out", str(ws.raw), "--truth-out", str(ws.truth),
        "--quiet", "--vocabulary", "activity_log",
    )
    ws.dbt("build", "--exclude", "tag:scoring", vars=example_vars())
    ws.train()
    return ws


def behaviour_columns(ws: Workspace) -> list[str]:
    attributes = {"job_level", "company_size_band", "employees", "industry", "country_region",
                  "lead_source"}
    skip = attributes | NON_BEHAVIOUR | {"lead_id", "as_of", "label", "rule_based_score",
                                         "is_converted", "lead_fingerprint"}
    return [row[0] for row in ws.sql("describe lead_training_set") if row[0] not in skip]


def test_the_other_vocabulary_gets_every_behavioural_feature(other_vocabulary: Workspace):
    ws = other_vocabulary
    columns = behaviour_columns(ws)
    assert {"site_actions_30d", "crm_actions_90d", "has_pricing_after_download",
            "has_pricing_before_download", "email_open_rate_90d", "days_since_last_web_visit",
            "has_unsubscribed", "pricing_views_total"} <= set(columns)
    counts = ws.sql(
        "select " + ", ".join(
            f'count(*) filter (where "{c}" is not null and cast("{c}" as varchar) not in '
            f"('0', '0.0', 'false'))" for c in columns
        ) + " from lead_training_set"
    )[0]
    never = [c for c, n in zip(columns, counts, strict=True) if n == 0]
    assert never == [], f"features that are zero or empty for every lead: {never}"


def test_the_other_vocabulary_scores_as_well_as_the_demo_names(
    other_vocabulary: Workspace, scored_workspace: Workspace
):
    def test_auc(ws: Workspace) -> float:
        meta = json.loads(
            (ws.artifacts / "models" / ws.champion() / "metadata.json").read_text()
        )
        return meta["metrics"]["test"]["auc"]

    native, other = test_auc(scored_workspace), test_auc(other_vocabulary)
    assert abs(native - other) < 0.01, (native, other)


def test_the_other_vocabulary_scores_publishes_and_names_the_missing_rules(
    other_vocabulary: Workspace,
):
    ws = other_vocabulary
    ws.dbt("build", "--select", "tag:scoring", vars=example_vars())
    published = ws.sql(
        "select count(*) from lead_scores", database=ws.published / "leadscore.duckdb"
    )
    assert published == ws.sql("select count(*) from lead_features") != [(0,)]
    build_log = (ws.root / "logs" / "dbt.log").read_text()
    assert "rule-based baseline skips 6 rule(s)" in build_log
    assert "title_executive (job_title)" in build_log
    # every event kind of the export is in its taxonomy
    assert ws.sql("select count(*) from unmapped_event_kinds") == [(0,)]


def test_a_model_of_another_taxonomy_asks_for_retraining_in_words(
    other_vocabulary: Workspace, scored_workspace: Workspace, tmp_path: Path
):
    ws = scored_workspace.copy_to(tmp_path / "ws")
    version = other_vocabulary.champion()
    shutil.copytree(other_vocabulary.artifacts / "models" / version,
                    ws.artifacts / "models" / version)
    result = ws.dbt("build", "--select", "lead_scores", check=False,
                    vars=f"model_version: '{version}'")
    assert result.returncode != 0
    assert "changed its channels or intents since this model was trained" in result.stdout
    assert "Retrain on the current features" in result.stdout


def test_unmapped_event_kinds_fail_the_build_above_the_limit_and_are_named(
    tiny_scored: Workspace, tmp_path: Path
):
    ws = tiny_scored.copy_to(tmp_path / "ws")
    extra = [
        {"event_id": f"X{i}", "lead_id": "T001", "occurred_at": f"2026-02-{10 + i} 10:00:00",
         "channel": "events", "event_type": "webinar_attended", "page_category": None,
         "campaign": None, "value": None}
        for i in range(10)
    ]
    append_csv_rows(ws.raw / "events.csv", extra)
    result = ws.dbt("build", "--select", "+unmapped_event_kinds", check=False)
    assert result.returncode != 0
    assert re.search(r"FAIL \d+ unmapped_event_share", result.stdout)
    assert "events / webinar_attended / *: 10 events" in result.stdout
    assert 'events,webinar_attended,*,engagement,1,,"events webinar_attended"' in result.stdout
    share = ws.sql("select max(unmapped_share_of_events) from unmapped_event_kinds")[0][0]
    total = ws.sql("select count(*) from stg_raw__events")[0][0]
    assert share == pytest.approx(10 / total)


def test_check_profiles_an_export_and_writes_starter_vars(tmp_path: Path):
    write_tiny_inputs(tmp_path / "raw", n_leads=20)
    leads = (tmp_path / "raw" / "leads.csv").read_text()
    (tmp_path / "raw" / "leads.csv").write_text(leads.replace("job_title", "Job Level", 1))
    append_csv_rows(tmp_path / "raw" / "events.csv", [
        {"event_id": "Z1", "lead_id": "T001", "occurred_at": "2026-02-10 10:00:00",
         "channel": "social", "event_type": "linkedin_engagement", "page_category": None,
         "campaign": None, "value": None}
    ])
    ws = Workspace(tmp_path)
    check = [str(BIN / "leadscore"), "check", str(tmp_path / "raw")]
    result = ws.run(*check, check=False)
    assert result.returncode == 1
    assert "lacks the categorical_attributes 'job_title'" in result.stdout
    assert "'Job Level': categorical" in result.stdout
    assert "'employee_count': numeric" in result.stdout
    assert "social / linkedin_engagement / *: 1 events" in result.stdout
    assert "add: social,linkedin_engagement,*,engagement,1," in result.stdout
    assert "title_executive (job_title)" in result.stdout
    assert "build with as_of '2026-" in result.stdout
    starter = tmp_path / "vars.yml"
    assert ws.run(*check, "--write-vars", str(starter), check=False).returncode == 1
    written = yaml.safe_load(starter.read_text())
    assert "Job Level" in written["categorical_attributes"]
    assert written["pii_columns"] == ["email"]
    fixed = ws.run(*check, "--vars", str(starter))
    assert fixed.returncode == 0
    assert "No blocking problem." in fixed.stdout
