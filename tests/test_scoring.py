"""Scoring inside the warehouse: the UDF agrees with LightGBM, reruns are stable, and a missing
or mismatched model stops the build without touching the published scores."""

from __future__ import annotations

from pathlib import Path

import lightgbm as lgb
import numpy as np
import pandas as pd
import pytest

from conftest import Workspace, append_csv_rows, read_csv_rows, write_csv
from leadscore.artifacts import load_artifact
from leadscore.calibration import apply_calibration
from leadscore.training import encode_features

NO_TESTS = ("--exclude-resource-type", "test", "unit_test")
NO_EVENTS = "L-NO-EVENTS"
UNSEEN = "L-UNSEEN-TITLE"


def python_probabilities(ws: Workspace, features: pd.DataFrame) -> np.ndarray:
    """LightGBM (the saved text model) plus calibration, computed outside the warehouse."""
    artifact = load_artifact(None, ws.artifacts)
    meta = artifact.metadata
    vocabularies = {f["name"]: f["vocabulary"] for f in meta["features"] if "vocabulary" in f}
    x = encode_features(features, meta["features"], vocabularies)
    booster = lgb.Booster(model_file=str(artifact.lightgbm_path))
    return apply_calibration(meta["calibration"], booster.predict(x.astype(np.float64)))


def scores(ws: Workspace) -> list[tuple]:
    return ws.sql("select * from lead_scores order by lead_id")


@pytest.fixture(scope="module")
def special_leads(
    scored_workspace: Workspace, tmp_path_factory: pytest.TempPathFactory
) -> Workspace:
    """The demo plus a lead without any event and a lead with a job title never seen."""
    ws = scored_workspace.copy_to(tmp_path_factory.mktemp("special_leads"))
    (template_id,) = ws.sql(
        "select lead_id from lead_scores where score_status = 'ok' order by lead_id limit 1"
    )[0]
    leads = {row["lead_id"]: row for row in read_csv_rows(ws.raw / "leads.csv")}
    template = leads[template_id]
    append_csv_rows(
        ws.raw / "leads.csv",
        [
            {**template, "lead_id": NO_EVENTS, "email": "no.events@example.com"},
            {**template, "lead_id": UNSEEN, "email": "new@example.com", "job_title": "Astronaut"},
        ],
    )
    events = [row for row in read_csv_rows(ws.raw / "events.csv") if row["lead_id"] == template_id]
    append_csv_rows(
        ws.raw / "events.csv",
        [{**row, "event_id": f"{row['event_id']}-u", "lead_id": UNSEEN} for row in events],
    )
    ws.dbt("build", "--select", "+lead_features", "lead_scores", *NO_TESTS)
    return ws


def test_every_lead_is_scored_once_and_published(scored_workspace):
    ws = scored_workspace
    features = ws.sql("select count(*) from lead_features")[0][0]
    assert ws.sql("select count(*), count(distinct lead_id) from lead_scores")[0] == (
        features,
        features,
    )
    published = ws.published / "leadscore.duckdb"
    assert ws.sql("select count(*) from lead_scores", published)[0][0] == features
    parquet = f"select count(*) from '{ws.published / 'lead_scores.parquet'}'"
    assert ws.sql(parquet)[0][0] == features


def test_warehouse_probabilities_equal_lightgbm_plus_calibration(special_leads):
    ws = special_leads
    features = ws.df("select * from lead_features order by lead_id")
    warehouse = ws.df("select lead_id, conversion_probability from lead_scores order by lead_id")
    assert list(warehouse["lead_id"]) == list(features["lead_id"])
    expected = python_probabilities(ws, features)
    np.testing.assert_allclose(warehouse["conversion_probability"], expected, rtol=0, atol=1e-5)
    # the comparison includes NULL features, the lead without events among them
    quiet = features.set_index("lead_id").loc[NO_EVENTS]
    assert pd.isna(quiet["days_since_last_activity"]) and quiet["activities_total"] == 0


def test_unseen_category_is_scored_and_flagged(special_leads):
    rows = dict(
        special_leads.sql(
            f"""
            select lead_id, (score_status, conversion_probability is not null)
            from lead_scores where lead_id in ('{UNSEEN}', '{NO_EVENTS}')
            """
        )
    )
    assert rows[UNSEEN] == ("unknown_category", True)
    assert rows[NO_EVENTS][1]


def test_rebuilding_from_scratch_gives_the_same_probabilities(scored_workspace, tmp_path):
    ws = scored_workspace.copy_to(tmp_path / "ws")
    query = """
        select lead_id, conversion_probability, tier, model_version, scored_at from lead_scores
        order by lead_id
    """
    incremental = ws.sql(query)
    assert len(incremental) > 1000
    ws.dbt("build", "--select", "lead_scores", "--full-refresh", *NO_TESTS)
    rebuilt = ws.sql(query)
    # every lead was scored again by this run, not kept from the first one
    scored_before = max(row[-1] for row in incremental)
    assert all(row[-1] > scored_before for row in rebuilt)
    assert [row[:-1] for row in rebuilt] == [row[:-1] for row in incremental]


def test_tiers_named_by_the_vars_pass_the_tier_tests(scored_workspace, tmp_path):
    ws = scored_workspace.copy_to(tmp_path / "ws")
    tiers = "tier_thresholds: {Hot: 0.3, Warm: 0.1}, lowest_tier: Cold"
    ws.dbt("build", "--select", "lead_scores", *NO_TESTS, vars=tiers)
    counts = dict(
        ws.sql("select tier, count(*) from lead_scores where not is_converted group by tier")
    )
    assert set(counts) == {"Hot", "Warm", "Cold"}
    result = ws.dbt("test", "--select", "test_name:accepted_tiers",
                    "test_name:tier_consistent_with_score", vars=tiers, check=False)
    assert result.returncode == 0, result.stdout[-3000:]
    assert "accepted_tiers_lead_scores_tier" in result.stdout
    assert "tier_consistent_with_score_lead_scores_tier" in result.stdout


def test_scoring_without_a_model_fails_and_keeps_the_published_scores(scored_workspace, tmp_path):
    ws = scored_workspace.copy_to(tmp_path / "ws", with_artifacts=False)
    ws.artifacts.mkdir()
    published, in_warehouse = ws.published_files(), scores(ws)
    result = ws.dbt("build", "--select", "tag:scoring", check=False)
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert "No trained model" in output and "python python/train.py" in output
    assert ws.published_files() == published
    assert scores(ws) == in_warehouse


def add_numeric_column(path: Path, name: str) -> None:
    rows = read_csv_rows(path)
    for i, row in enumerate(rows):
        row[name] = str(1000 + 17 * i)
    write_csv(path, rows)


def test_feature_schema_mismatch_fails_naming_the_columns(scored_workspace, tmp_path):
    ws = scored_workspace.copy_to(tmp_path / "ws")
    add_numeric_column(ws.raw / "leads.csv", "annual_revenue")
    published, in_warehouse = ws.published_files(), scores(ws)
    # one more numeric attribute, one categorical attribute fewer
    changed = (
        "numeric_attributes: [employee_count, annual_revenue], "
        "categorical_attributes: [job_title, company_size, industry, country]"
    )
    result = ws.dbt(
        "build", "--select", "+lead_features", "lead_scores", *NO_TESTS, vars=changed, check=False
    )
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert "Missing columns: lead_source" in output
    assert "Extra columns: annual_revenue" in output
    assert "python python/train.py" in output
    assert ws.published_files() == published
    assert scores(ws) == in_warehouse


def test_scoring_in_parallel_parts_keeps_every_row_in_place(scored_workspace, monkeypatch):
    """A batch split across scoring threads gives each row exactly its own probability."""
    from leadscore.scoring import MIN_ROWS_PER_PART, Scorer

    ws = scored_workspace
    artifact = load_artifact(None, ws.artifacts)
    features = ws.df("select * from lead_features order by lead_id")
    vocabularies = {
        f["name"]: f["vocabulary"] for f in artifact.metadata["features"] if "vocabulary" in f
    }
    x = encode_features(features, artifact.metadata["features"], vocabularies)
    # enough rows for several parts, in an order no part boundary lines up with
    rows = np.resize(x, (MIN_ROWS_PER_PART * 7 + 13, x.shape[1]))[::-1]
    scorer = Scorer(artifact)
    monkeypatch.setenv("LEADSCORE_ORT_THREADS", "1")
    one_part = scorer.predict_proba(rows)
    monkeypatch.setenv("LEADSCORE_ORT_THREADS", "4")
    parts = scorer.predict_proba(rows)
    np.testing.assert_array_equal(parts, one_part)
    single_rows = np.concatenate([scorer.predict_proba(rows[i : i + 1]) for i in range(0, 50)])
    np.testing.assert_array_equal(parts[:50], single_rows)
