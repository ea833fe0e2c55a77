"""The same dbt project on Apache Spark gives the same features, training set and scores.

The shared demo (``scored_workspace``: built on DuckDB, the embedded default, with a model
trained on it) is built again on Spark (``local[2]``, dbt-spark's session method, dbt in this
process) from the same raw files with the same model, then the marts are compared: counts and
categories exactly, floats within 1e-9 (relative), probabilities within 1e-6 and tiers exactly.
train.py then trains from the Spark training set.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from tests.conftest import DEMO_AS_OF, Workspace

pytest.importorskip("pyspark", reason="pyspark is not installed: pip install -e '.[spark]'")
pytest.importorskip(
    "dbt.adapters.spark", reason="dbt-spark is not installed: pip install -e '.[spark]'"
)

pytestmark = pytest.mark.slow

VARS = f"{{as_of: '{DEMO_AS_OF}'}}"
CORE = ["+lead_features", "+lead_training_set", "resource_type:seed"]
NO_TESTS = ["--exclude-resource-type", "test", "unit_test"]


@pytest.fixture(scope="module")
def spark_built(
    scored_workspace: Workspace, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[object, Workspace]]:
    """The shared demo's raw files and model built on Spark local[2], in this process.

    The Spark catalog, warehouse, dbt target and logs go to a folder of their own: the shared
    workspace is read, never written.
    """
    from leadscore import spark as leadscore_spark

    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        pytest.fail(
            "Spark needs a Java runtime (17 or 21) and none is on PATH or in JAVA_HOME: "
            "apt-get install default-jre-headless (.ci/run does), then run the tests again."
        )
    ws = scored_workspace
    own = tmp_path_factory.mktemp("spark_parity")
    with pytest.MonkeyPatch.context() as env:
        for key, value in ws.env().items():
            if key.startswith(("LEADSCORE_", "DBT_")):
                env.setenv(key, value)
        env.setenv("DBT_TARGET_PATH", str(own / "target"))
        env.setenv("DBT_LOG_PATH", str(own / "logs"))
        env.setenv("LEADSCORE_ORT_THREADS", "1")
        env.setenv("LEADSCORE_SHAP_THREADS", "1")
        home = own / "spark"
        # one process builds and reads: the catalog in memory (no Derby metastore to create);
        # at a few thousand rows per table, interpreting each plan is faster than compiling it
        session = leadscore_spark.spark_session(
            "local[2]",
            home,
            shuffle_partitions=2,
            catalog="in-memory",
            conf={"spark.sql.codegen.wholeStage": "false"},
        )
        code = leadscore_spark.build(
            ["build", "--select", *CORE, "lead_scores", *NO_TESTS, "--vars", VARS],
            master="local[2]",
            data_dir=ws.raw,
            home=home,
            artifacts=ws.artifacts,
        )
        assert code == 0, "leadscore build --target spark failed (see the dbt log above)"
        yield session, ws
        session.stop()


def _spark_df(session: object, table: str) -> pd.DataFrame:
    return session.table(f"leadscore.{table}").toPandas()  # type: ignore[attr-defined]


def _assert_same(duck: pd.DataFrame, spark: pd.DataFrame, keys: list[str], name: str) -> None:
    skip = {"lead_fingerprint", "score_fingerprint"}
    assert sorted(c for c in duck.columns if c not in skip) == sorted(
        c for c in spark.columns if c not in skip
    ), f"{name}: columns differ"
    assert len(duck) == len(spark), f"{name}: {len(duck)} rows on DuckDB, {len(spark)} on Spark"
    duck = duck.sort_values(keys).reset_index(drop=True)
    spark = spark.sort_values(keys).reset_index(drop=True)
    for column in duck.columns:
        if column in skip:
            continue
        left, right = duck[column], spark[column]
        if pd.api.types.is_numeric_dtype(left) and not pd.api.types.is_bool_dtype(left):
            a = left.to_numpy(dtype=float, na_value=np.nan)
            b = pd.to_numeric(right).to_numpy(dtype=float, na_value=np.nan)
            np.testing.assert_allclose(
                b, a, rtol=1e-9, atol=1e-12, equal_nan=True, err_msg=f"{name}.{column}"
            )
        elif pd.api.types.is_datetime64_any_dtype(left):
            assert (
                pd.to_datetime(left).dt.tz_localize(None).tolist()
                == pd.to_datetime(right).dt.tz_localize(None).tolist()
            ), f"{name}.{column}"
        else:
            assert (
                left.astype(object).where(left.notna(), None).tolist()
                == right.astype(object).where(right.notna(), None).tolist()
            ), f"{name}.{column}"


def test_spark_builds_the_same_features_and_training_set(spark_built) -> None:
    session, ws = spark_built
    for table, keys in [
        ("lead_features", ["lead_id"]),
        ("lead_training_set", ["lead_id", "as_of"]),
    ]:
        duck = ws.df(f"select * from {table}")
        assert len(duck) > 0
        _assert_same(duck, _spark_df(session, table), keys, table)


def test_spark_scores_with_the_same_model(spark_built) -> None:
    session, ws = spark_built
    duck = ws.df("select lead_id, conversion_probability, tier from lead_scores").sort_values(
        "lead_id"
    )
    spark = _spark_df(session, "lead_scores")[
        ["lead_id", "conversion_probability", "tier"]
    ].sort_values("lead_id")
    assert duck["lead_id"].tolist() == spark["lead_id"].tolist()
    np.testing.assert_allclose(
        spark["conversion_probability"].to_numpy(float),
        duck["conversion_probability"].to_numpy(float),
        rtol=0,
        atol=1e-6,
    )
    assert duck["tier"].tolist() == spark["tier"].tolist()
    assert duck["tier"].nunique() > 1, "the data should spread the leads over several tiers"


def test_train_from_the_spark_training_set(spark_built, tmp_path: Path) -> None:
    from leadscore import spark as leadscore_spark

    session, ws = spark_built
    exported = leadscore_spark.export_tables(session, tmp_path / "from_spark.duckdb")
    assert exported["lead_training_set"] == ws.sql("select count(*) from lead_training_set")[0][0]
    artifacts = tmp_path / "artifacts"
    ws.train(
        "--warehouse",
        str(tmp_path / "from_spark.duckdb"),
        "--artifacts",
        str(artifacts),
        "--version",
        "from_spark",
    )
    mine = artifacts / "models" / "from_spark"
    theirs = ws.artifacts / "models" / str(ws.champion())
    assert sorted(p.name for p in mine.iterdir()) == sorted(p.name for p in theirs.iterdir())
    a = json.loads((mine / "metadata.json").read_text())
    b = json.loads((theirs / "metadata.json").read_text())
    assert sorted(a) == sorted(b)
    assert a["features"] == b["features"]


def test_spark_lists_the_same_rejected_rows(spark_built) -> None:
    """audit/rejected_rows on Spark: the same rows, reasons and raw rows (as JSON text, NULL
    fields included) as on DuckDB."""
    from leadscore import spark as leadscore_spark

    session, ws = spark_built
    selected = ["base_raw__malformed_rows", "rejected_rows"]
    built = leadscore_spark.run_dbt(["build", "--select", *selected, *NO_TESTS, "--vars", VARS])
    assert built, "rejected_rows did not build on Spark (see the dbt log above)"
    duck = ws.df("select * from rejected_rows")
    assert len(duck) > 0, "the demo data should have rejected rows to compare"
    _assert_same(
        duck,
        _spark_df(session, "rejected_rows"),
        ["input_name", "source_row_number", "file_row_number"],
        "rejected_rows",
    )
