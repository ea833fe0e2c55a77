"""The demo data generator: reproducible output, a plausible timeline, a truth kept apart."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

from conftest import Workspace
from leadscore.demo import generate

RAW_FILES = ("leads.csv", "events.csv", "conversions.csv")


def run_generator(root: Path, seed: int, end: str = "2026-06-01") -> Path:
    code = generate.main(
        [
            "--leads", "200", "--seed", str(seed), "--end", end, "--months", "6",
            "--out", str(root / "raw"), "--truth-out", str(root / "truth"), "--quiet",
        ]
    )  # fmt: skip
    assert code == 0
    return root


def output_bytes(root: Path) -> dict[str, bytes]:
    files = [root / "raw" / name for name in RAW_FILES]
    files.append(root / "truth" / "true_probability.parquet")
    return {path.name: path.read_bytes() for path in files}


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return run_generator(tmp_path_factory.mktemp("generated"), seed=3)


def test_same_seed_and_end_give_the_same_bytes(generated, tmp_path):
    again = run_generator(tmp_path, seed=3)
    assert output_bytes(again) == output_bytes(generated)


def test_another_seed_gives_other_data(generated, tmp_path):
    other = output_bytes(run_generator(tmp_path, seed=4))
    first = output_bytes(generated)
    assert all(other[name] != first[name] for name in first)


def test_another_end_date_shifts_the_data(generated, tmp_path):
    other = output_bytes(run_generator(tmp_path, seed=3, end="2026-07-01"))
    assert other["leads.csv"] != output_bytes(generated)["leads.csv"]


def test_events_happen_between_creation_and_conversion(generated):
    raw = generated / "raw"
    counts = duckdb.sql(
        f"""
        with leads as (select * from read_csv('{raw}/leads.csv')),
        events as (select * from read_csv('{raw}/events.csv')),
        conversions as (select * from read_csv('{raw}/conversions.csv'))
        select
            count(*) as events,
            count(*) filter (where events.occurred_at < leads.created_at) as before_creation,
            count(*) filter (where events.occurred_at > conversions.converted_at) as after_end,
            count(*) filter (where leads.lead_id is null) as orphans,
            count(conversions.lead_id) as events_of_converted_leads,
        from events
        left join leads using (lead_id)
        left join conversions using (lead_id)
        """
    ).fetchall()[0]
    events, before_creation, after_conversion, orphans, of_converted = counts
    assert events > 1000 and of_converted > 0
    assert (before_creation, after_conversion, orphans) == (0, 0, 0)


def test_truth_is_written_apart_from_the_raw_inputs(generated):
    truth = generated / "truth" / "true_probability.parquet"
    columns = [row[0] for row in duckdb.sql(f"describe select * from '{truth}'").fetchall()]
    assert columns == ["lead_id", "cutoff", "true_probability"]
    assert sorted(p.name for p in (generated / "raw").iterdir()) == sorted(RAW_FILES)
    meta = json.loads((generated / "truth" / "generator.json").read_text())
    assert meta["seed"] == 3 and meta["n_leads"] == 200


def test_true_probability_is_no_input_of_any_model(scored_workspace: Workspace):
    ws = scored_workspace
    manifest = json.loads((ws.root / "target" / "manifest.json").read_text())
    nodes = {**manifest["nodes"], **manifest["sources"], **manifest["macros"]}
    for name, node in nodes.items():
        code = "".join(node.get(key) or "" for key in ("raw_code", "compiled_code", "macro_sql"))
        assert "true_probability" not in code, name
        assert str(ws.truth) not in code, name
    columns = {
        row[0]
        for row in ws.sql("select column_name from information_schema.columns")
    }
    assert "true_probability" not in columns
    metadata = json.loads(
        (ws.artifacts / "models" / ws.champion() / "metadata.json").read_text()
    )
    assert "true_probability" not in {f["name"] for f in metadata["features"]}
    # the truth only grades the model, next to its test metrics
    assert 0.5 < metadata["metrics"]["oracle_auc"] <= 1.0
