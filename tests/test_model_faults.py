"""A missing, damaged or mismatched model stops the scoring build with a message that names
the fix, and the last published scores stay byte for byte as they were."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import duckdb
import pytest

from conftest import Workspace
from leadscore import udf
from leadscore.artifacts import feature_schema_hash, file_sha256

SCORING = ("build", "--select", "tag:scoring")
RETRAIN = "Retrain with python python/train.py"


@pytest.fixture(scope="module")
def scored(tmp_path_factory: pytest.TempPathFactory, tiny_scored: Workspace) -> Workspace:
    """A private copy of tiny_scored, shared by the tests here so dbt parses the project once."""
    return tiny_scored.copy_to(tmp_path_factory.mktemp("faults"))


@pytest.fixture
def champion(scored: Workspace, tmp_path: Path) -> Iterator[Path]:
    """The champion's folder, for a test to damage; restored afterwards."""
    backup = tmp_path / "artifacts"
    shutil.copytree(scored.artifacts, backup)
    yield scored.artifacts / "models" / str(scored.champion())
    shutil.rmtree(scored.artifacts)
    shutil.copytree(backup, scored.artifacts)


def edit_metadata(folder: Path, change: Callable[[dict], None]) -> None:
    path = folder / "metadata.json"
    metadata = json.loads(path.read_text())
    change(metadata)
    path.write_text(json.dumps(metadata))


def rename_first_numeric_feature(metadata: dict) -> None:
    feature = next(f for f in metadata["features"] if f["kind"] == "numeric")
    feature["name"] = "shoe_size"


def refuses_to_score(ws: Workspace, vars: str = "") -> str:
    """Runs the scoring build, which must fail, leaving published/ as it was; returns the output."""
    before = ws.published_files()
    scores_before = ws.sql("select * from lead_scores order by lead_id")
    result = ws.dbt(*SCORING, vars=vars, check=False)
    output = " ".join((result.stdout + result.stderr).split())
    assert result.returncode != 0
    assert "Traceback" not in output
    assert ws.published_files() == before
    assert ws.sql("select * from lead_scores order by lead_id") == scores_before
    published = ws.published / "leadscore.duckdb"
    assert ws.sql("select count(*) from lead_scores", published) == [(len(scores_before),)]
    parquet = ws.published / "lead_scores.parquet"
    assert ws.sql(f"select count(*) from '{parquet}'", published) == [(len(scores_before),)]
    return output


def test_a_missing_onnx_file_stops_scoring_and_says_to_retrain(scored, champion):
    (champion / "model.onnx").unlink()
    output = refuses_to_score(scored)
    assert f"{champion / 'model.onnx'} is missing. {RETRAIN}" in output
    assert "leadscore promote <older version>" in output


def test_a_truncated_onnx_file_stops_scoring_and_says_to_retrain(scored, champion):
    path = champion / "model.onnx"
    path.write_bytes(path.read_bytes()[:1000])
    output = refuses_to_score(scored)
    assert "does not match its metadata" in output
    assert "the file is truncated, corrupted or replaced" in output and RETRAIN in output


def test_a_model_of_another_feature_schema_stops_scoring_naming_the_columns(scored, champion):
    def other_schema(metadata: dict) -> None:
        rename_first_numeric_feature(metadata)
        metadata["feature_schema_hash"] = feature_schema_hash(metadata["features"])

    edit_metadata(champion, other_schema)
    output = refuses_to_score(scored)
    assert "does not match lead_features. Missing columns: shoe_size" in output
    assert "Retrain on the current features (python python/train.py)" in output


def test_an_unknown_model_version_stops_scoring_listing_the_known_ones(scored, champion):
    output = refuses_to_score(scored, vars="model_version: nope")
    assert f"Model version 'nope' not found in {scored.artifacts / 'models'}" in output
    assert f"(available: {champion.name})" in output


# --------------------------------------------------------------------------------------------
# More faults, checked where dbt gets its message: leadscore_model_info, the function the
# scoring build calls first and whose error it raises as is (macros/scoring.sql).


@pytest.fixture
def artifacts(shared_model: Path, tmp_path: Path) -> Path:
    """A private copy of the shared model's artifacts folder."""
    return shutil.copytree(shared_model, tmp_path / "artifacts")


def only_version(artifacts: Path) -> Path:
    return next(p for p in (artifacts / "models").iterdir() if p.is_dir())


def model_error(artifacts: Path, version: str = "") -> str:
    con = duckdb.connect()
    try:
        udf.register(con, artifacts)
        info = json.loads(con.execute("select leadscore_model_info(?)", [version]).fetchone()[0])
    finally:
        con.close()
    return info.get("error", "")


def test_a_corrupted_onnx_file_is_refused_by_its_checksum(artifacts):
    path = only_version(artifacts) / "model.onnx"
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    error = model_error(artifacts)
    assert "the file is truncated, corrupted or replaced" in error and RETRAIN in error


def test_an_edited_onnx_checksum_in_metadata_is_refused(artifacts):
    edit_metadata(only_version(artifacts), lambda m: m.update(onnx_sha256="0" * 64))
    error = model_error(artifacts)
    assert "does not match its metadata (sha256" in error and RETRAIN in error


def test_an_edited_feature_list_in_metadata_is_refused(artifacts):
    edit_metadata(only_version(artifacts), rename_first_numeric_feature)
    error = model_error(artifacts)
    assert "feature list does not match its feature_schema_hash" in error and RETRAIN in error


def test_a_missing_lightgbm_model_is_refused_before_scoring(artifacts):
    """lead_scores explains each score with the LightGBM text model (TreeSHAP): without it the
    build would stop halfway through scoring, on a LightGBM error that names no fix."""
    path = only_version(artifacts) / "model.lgbm.txt"
    path.unlink()
    error = model_error(artifacts)
    assert str(path) in error and RETRAIN in error


def test_a_corrupt_onnx_file_with_a_matching_checksum_is_refused_by_onnxruntime(artifacts):
    folder = only_version(artifacts)
    (folder / "model.onnx").write_bytes(b"not an onnx model")
    edit_metadata(folder, lambda m: m.update(onnx_sha256=file_sha256(folder / "model.onnx")))
    error = model_error(artifacts)
    assert error.startswith(f"onnxruntime cannot load {folder / 'model.onnx'}")
    assert RETRAIN in error


def test_metadata_that_is_not_json_is_refused(artifacts):
    folder = only_version(artifacts)
    (folder / "metadata.json").write_text('{"features": [')
    error = model_error(artifacts, folder.name)
    assert "is not valid JSON" in error and RETRAIN in error


def test_no_trained_model_at_all_says_how_to_train_one(tmp_path):
    assert model_error(tmp_path / "artifacts") == (
        f"No trained model found in {tmp_path / 'artifacts' / 'models'}. "
        "Run: python python/train.py"
    )
