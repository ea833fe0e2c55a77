"""The same dbt project on Apache Spark gives the same features, training set, scores, CRM
outbox, score history and monitoring.

The shared demo (``scored_workspace``: built on DuckDB, the embedded default, with a model
trained on it) is built again on Spark (``local[2]``, dbt-spark's session method, dbt in this
process) from the same raw files with the same model, then the marts are compared: counts and
categories exactly, floats within 1e-9 (relative), probabilities and metrics within 1e-6 and
tiers exactly. train.py then trains from the Spark training set.
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

from test_monitoring import ALLOW_QUARANTINE, History, build_history

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


@pytest.fixture(scope="module")
def spark_rest(spark_built) -> tuple[object, Workspace, dict[str, int]]:
    """The rest of the project (registry staging, monitoring, CRM outbox, audit) built on the
    same session, then lead_scores and everything after it built again at the same as_of, as
    a second scheduled run would. Also returns lead_score_history's rows per as_of after the
    first build."""
    session, ws = spark_built
    built = leadscore_spark_run(
        ["build", "--exclude", "+lead_scores", "+lead_training_set", "resource_type:seed"]
    )
    assert built, "the rest of the project did not build on Spark (see the dbt log above)"
    first = _history_counts(session)
    rebuilt = leadscore_spark_run(["build", "--select", "lead_scores+"])
    assert rebuilt, "lead_scores+ did not build again on Spark (see the dbt log above)"
    return session, ws, first


@pytest.fixture(scope="module")
def spark_history(
    spark_rest, scored_workspace: Workspace, tmp_path_factory: pytest.TempPathFactory
) -> tuple[object, History]:
    """On Spark what test_monitoring's History does on DuckDB after the demo's build: a
    challenger (a copy of the champion) registered, the scoring models built at the model's
    test cutoff (the past), then at the end of the data again, so the past snapshot's outcomes
    have matured and every monitoring mart has rows to compare."""
    from leadscore import spark as leadscore_spark

    session, _, _ = spark_rest
    history = build_history(scored_workspace, tmp_path_factory)
    leadscore_spark.register_functions(session, history.ws.artifacts)
    registry = leadscore_spark.load_registry(session, history.ws.artifacts)
    assert registry["model_registry"] == 2
    past = f"{{as_of: '{history.past}', {ALLOW_QUARANTINE}}}"
    for as_of in (past, VARS):
        built = leadscore_spark.run_dbt(
            ["build", "--select", "+tag:scoring", *NO_TESTS, "--vars", as_of]
        )
        assert built, f"+tag:scoring did not build on Spark with {as_of} (see the dbt log above)"
    return session, history


def leadscore_spark_run(args: list[str]) -> bool:
    from leadscore import spark as leadscore_spark

    return leadscore_spark.run_dbt([*args, *NO_TESTS, "--vars", VARS])


def _history_counts(session: object) -> dict[str, int]:
    rows = session.sql(  # type: ignore[attr-defined]
        "select cast(as_of as string) as as_of, count(*) as n "
        "from leadscore.lead_score_history group by 1"
    ).collect()
    return {row["as_of"]: row["n"] for row in rows}


def _spark_df(session: object, table: str) -> pd.DataFrame:
    return session.table(f"leadscore.{table}").toPandas()  # type: ignore[attr-defined]


def _plain(value: object) -> object:
    """A cell as a comparable Python value: arrays as lists, every kind of missing as None."""
    if isinstance(value, np.ndarray):
        return [_plain(v) for v in value]
    if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)):
        return None
    return value


def _assert_same(
    duck: pd.DataFrame,
    spark: pd.DataFrame,
    keys: list[str],
    name: str,
    *,
    rtol: float = 1e-9,
    atol: float = 1e-12,
) -> None:
    """Same columns and rows (sorted by keys); numbers within rtol/atol, everything else equal.
    Fingerprints (hashes of a row's inputs, bookkeeping of the incremental runs) are not
    compared."""
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
            np.testing.assert_allclose(
                pd.to_numeric(right).to_numpy(dtype=float, na_value=np.nan),
                left.to_numpy(dtype=float, na_value=np.nan),
                rtol=rtol,
                atol=atol,
                equal_nan=True,
                err_msg=f"{name}.{column}",
            )
        elif pd.api.types.is_datetime64_any_dtype(left):
            assert (
                pd.to_datetime(left).dt.tz_localize(None).tolist()
                == pd.to_datetime(right).dt.tz_localize(None).tolist()
            ), f"{name}.{column}"
        else:
            assert [_plain(v) for v in left] == [_plain(v) for v in right], f"{name}.{column}"


def test_spark_loads_the_same_seeds(spark_built) -> None:
    """The seeds on Spark hold what they hold on DuckDB: an empty cell is NULL (not the text
    'None'), so the taxonomy's events without a sequence role have no role on both engines."""
    session, ws = spark_built
    for seed, keys in [
        ("event_taxonomy", ["channel", "event_type", "page_category"]),
        ("reason_templates", ["feature", "direction"]),
        ("rule_based_points", ["rule"]),
    ]:
        duck = ws.df(f"select * from {seed}")
        assert len(duck) > 0
        _assert_same(duck, _spark_df(session, seed), keys, seed)
    roles = ws.sql("select count(*) from event_taxonomy where role is null")[0][0]
    assert roles > 0, "the demo taxonomy should have events without a role"


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


def test_spark_passes_the_data_tests(spark_rest) -> None:
    """`leadscore build --target spark` runs the project's data tests, as `dbt build` does on
    DuckDB: on the demo they pass on Spark too (seeds, staging contracts, features, scores,
    outbox and monitoring; warnings allowed)."""
    from leadscore import spark as leadscore_spark

    tested = leadscore_spark.run_dbt(
        ["test", "--exclude-resource-type", "unit_test", "--vars", VARS]
    )
    assert tested, "a data test failed or errored on Spark (see the dbt log above)"


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


def _assert_close(duck: pd.DataFrame, spark: pd.DataFrame, keys: list[str], name: str) -> None:
    """As _assert_same, with numbers (probabilities, metrics) within 1e-6."""
    _assert_same(duck, spark, keys, name, rtol=0, atol=1e-6)


def test_spark_builds_the_same_crm_outbox(spark_rest) -> None:
    """What `leadscore sync` would send: the same leads, probabilities, tiers, prospects, reasons
    and (from the registry's feature importance) score confidence."""
    session, ws, _ = spark_rest
    columns = ["lead_id", "probability", "tier", "is_prospect", "top_factors", "score_confidence"]
    duck = ws.df(f"select {', '.join(columns)} from crm_outbox")
    spark = _spark_df(session, "crm_outbox")[columns]
    assert len(duck) > 0
    assert duck["score_confidence"].notna().all(), "the registry gives every lead a confidence"
    assert duck["is_prospect"].nunique() == 2, "the demo has prospects and converted leads"
    _assert_close(duck, spark, ["lead_id"], "crm_outbox")


def test_spark_history_grows_without_duplicates(spark_rest) -> None:
    """lead_score_history on Spark: the second build of the same as_of replaces its rows (those
    of the latest lead_scores), it does not add to them; the rows are DuckDB's."""
    session, ws, first = spark_rest
    leads = ws.sql("select count(*) from lead_scores")[0][0]
    assert first == {DEMO_AS_OF: leads}
    assert _history_counts(session) == {DEMO_AS_OF: leads}, "the rebuilt as_of was duplicated"
    stale = session.sql(  # type: ignore[attr-defined]
        """
        select count(*) from leadscore.lead_score_history as h
        inner join leadscore.lead_scores as s using (lead_id, as_of, model_version)
        where h.scored_as = 'served' and h.scored_at != s.scored_at
        """
    ).collect()[0][0]
    assert stale == 0, "the rebuilt as_of kept the rows of the first build"
    _assert_same_history(session, ws)


def _assert_same_history(session: object, ws: Workspace) -> None:
    """lead_score_history: the same scores of the same leads, snapshots, models and roles."""
    columns = ["lead_id", "as_of", "model_version", "scored_as", "conversion_probability", "tier"]
    _assert_close(
        ws.df(f"select {', '.join(columns)} from lead_score_history"),
        _spark_df(session, "lead_score_history")[columns],
        ["lead_id", "as_of", "model_version", "scored_as"],
        "lead_score_history",
    )


def test_spark_builds_the_same_monitoring(spark_rest) -> None:
    """Drift and evaluation read the model registry: loaded on Spark from artifacts/models, they
    hold what they hold on DuckDB."""
    session, ws, _ = spark_rest
    assert ws.sql("select count(*) from feature_drift")[0][0] > 0
    for table, keys in [
        ("feature_drift", ["model_version", "feature"]),
        ("feature_drift_bins", ["model_version", "feature", "bin"]),
        ("model_evaluation", ["model_version", "as_of"]),
        ("score_backtest", ["model_version", "as_of", "tier"]),
        ("champion_challenger_comparison", ["basis", "as_of"]),
    ]:
        duck = ws.df(f"select * from {table}")
        _assert_close(duck, _spark_df(session, table), keys, table)


def test_spark_evaluates_matured_scores_and_the_challenger_as_duckdb_does(spark_history) -> None:
    """With a matured past snapshot and a challenger: the same history (served and challenger
    scores of both snapshots, the rebuilt one once), evaluation, lift, reliability, thresholds,
    segments, backtest and champion / challenger comparison as the same builds on DuckDB."""
    session, history = spark_history
    ws = history.ws
    assert ws.sql("select count(*) from model_evaluation")[0][0] > 0
    assert ws.sql("select count(*) from champion_challenger_comparison")[0][0] > 0
    _assert_same_history(session, ws)
    for table, keys in [
        ("model_evaluation", ["model_version", "as_of"]),
        ("model_lift", ["model_version", "as_of", "decile"]),
        ("model_reliability", ["model_version", "as_of", "bin"]),
        (
            "model_threshold_evaluation",
            ["model_version", "as_of", "segment_name", "segment_value", "tier"],
        ),
        ("model_segment_evaluation", ["model_version", "as_of", "segment_name", "segment_value"]),
        ("score_backtest", ["model_version", "as_of", "tier"]),
        ("champion_challenger_comparison", ["basis", "as_of"]),
        ("feature_drift", ["model_version", "feature"]),
    ]:
        duck = ws.df(f"select * from {table}")
        _assert_close(duck, _spark_df(session, table), keys, table)
