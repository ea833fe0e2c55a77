"""Monitoring in the warehouse: the metric macros on hand-made rows with known answers, and score
history, evaluation on matured outcomes, drift and champion / challenger on real dbt builds."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from sklearn.metrics import brier_score_loss, roc_auc_score

from conftest import BIN, DEMO_AS_OF, Workspace
from leadscore import udf
from leadscore.artifacts import load_artifact
from leadscore.config import dbt_vars
from leadscore.metrics import evaluate, expected_calibration_error, reliability_bins
from leadscore.scoring import get_scorer
from leadscore.training import bin_shares, encode_features

# Quarantined rows (data after an earlier as_of) are expected when rebuilding the past.
ALLOW_QUARANTINE = "rejected_share_warn: 1, rejected_share_error: 1"
SCORING = ("--select", "+tag:scoring")

MACROS = {
    "auc": "{{ leadscore_auc('hand_made', 'label', 'p', ['grp']) }}",
    "ece": "{{ leadscore_ece('hand_made', 'label', 'p', ['grp']) }}",
    "bins": "{{ leadscore_reliability_bins('hand_made', 'label', 'p', ['grp']) }}",
    "brier": "{{ leadscore_brier('hand_made', 'label', 'p', ['grp']) }}",
    "lift": "{{ leadscore_lift('hand_made', 'label', 'p', ['grp'], 'id') }}",
    "thresholds": "{{ leadscore_threshold_metrics('hand_made', 'label', 'p', ['grp']) }}",
    "drift_bins": "{{ leadscore_drift_bins('current_values', 'reference', ['feature']) }}",
    "psi": "{{ leadscore_psi('binned', ['feature']) }}",
}


# --------------------------------------------------------------------------- the macros


@pytest.fixture(scope="module")
def macro_sql(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Each metric macro compiled by dbt once, as plain SQL over hand-made relations."""
    ws = Workspace(tmp_path_factory.mktemp("macros"))
    inline = "\n".join(f"-- @@{name}\n{call}" for name, call in MACROS.items())
    result = ws.dbt("compile", "--quiet", "--output", "json", "--inline", inline)
    compiled = json.loads(result.stdout[result.stdout.index("{") :])["compiled"]
    parts = re.split(r"^-- @@(\w+)$", compiled, flags=re.MULTILINE)[1:]
    return dict(zip(parts[::2], parts[1::2], strict=True))


def run_macro(sql: str, **tables: pd.DataFrame) -> pd.DataFrame:
    con = duckdb.connect()
    try:
        for name, frame in tables.items():
            con.register(f"{name}_frame", frame)
            con.execute(f"create table {name} as select * from {name}_frame")
        return con.execute(sql).df()
    finally:
        con.close()


def scored_rows(seed: int, groups: int = 4, n: int = 400) -> pd.DataFrame:
    """Probabilities rounded to one decimal (many ties), labels drawn from them."""
    rng = np.random.default_rng(seed)
    p = np.round(rng.beta(1.2, 4.0, size=n), 1)
    return pd.DataFrame(
        {
            "grp": rng.integers(0, groups, size=n),
            "id": np.arange(n),
            "p": p,
            "label": (rng.random(n) < p).astype(int),
        }
    )


def by_group(frame: pd.DataFrame) -> Iterator[tuple[int, pd.DataFrame]]:
    yield from frame.groupby("grp")


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_sql_auc_equals_scikit_learn_with_tied_scores(macro_sql, seed):
    rows = scored_rows(seed)
    assert rows["p"].duplicated().sum() > 300  # ties everywhere
    result = run_macro(macro_sql["auc"], hand_made=rows).set_index("grp")
    for group, frame in by_group(rows):
        expected = roc_auc_score(frame["label"], frame["p"])
        assert result.loc[group, "auc"] == pytest.approx(expected, abs=1e-12)
        assert result.loc[group, "positives"] == frame["label"].sum()


def test_sql_auc_counts_a_tie_between_a_conversion_and_a_non_conversion_one_half(macro_sql):
    rows = pd.DataFrame(
        {"grp": 1, "id": range(4), "p": [0.1, 0.4, 0.4, 0.8], "label": [0, 0, 1, 1]}
    )
    assert run_macro(macro_sql["auc"], hand_made=rows)["auc"][0] == pytest.approx(3.5 / 4)


def test_sql_auc_is_null_without_both_outcomes(macro_sql):
    rows = pd.DataFrame({"grp": 1, "id": range(3), "p": [0.1, 0.2, 0.3], "label": [0, 0, 0]})
    assert pd.isna(run_macro(macro_sql["auc"], hand_made=rows)["auc"][0])


def test_sql_calibration_matches_the_training_metrics_even_on_bin_edges(macro_sql):
    rows = scored_rows(4)
    # probabilities exactly on the edges of the tenths, where rounding would move them
    edges = pd.DataFrame(
        {"grp": 0, "id": range(1000, 1011), "p": np.linspace(0, 1, 11), "label": [0, 1] * 5 + [1]}
    )
    rows = pd.concat([rows, edges], ignore_index=True)
    ece = run_macro(macro_sql["ece"], hand_made=rows).set_index("grp")
    bins = run_macro(macro_sql["bins"], hand_made=rows)
    brier = run_macro(macro_sql["brier"], hand_made=rows).set_index("grp")
    for group, frame in by_group(rows):
        y, p = frame["label"].to_numpy(), frame["p"].to_numpy()
        assert ece.loc[group, "ece"] == pytest.approx(expected_calibration_error(y, p), abs=1e-12)
        assert brier.loc[group, "brier"] == pytest.approx(brier_score_loss(y, p), abs=1e-12)
        expected = pd.DataFrame(reliability_bins(y, p))
        actual = bins[bins["grp"] == group].sort_values("bin").reset_index(drop=True)
        assert actual["bin"].tolist() == expected["bin"].tolist()
        assert actual["n"].tolist() == expected["n"].tolist()
        np.testing.assert_allclose(actual["observed_rate"], expected["observed_rate"])
        np.testing.assert_allclose(actual["mean_predicted"], expected["mean_predicted"])


def test_sql_precision_and_recall_at_the_tier_thresholds_match_the_training_metrics(macro_sql):
    rows = scored_rows(5)
    result = run_macro(macro_sql["thresholds"], hand_made=rows)
    assert set(result["tier"]) == set(dbt_vars()["tier_thresholds"])
    for group, frame in by_group(rows):
        expected = evaluate(frame["label"], frame["p"], dbt_vars()["tier_thresholds"])
        for row in result[result["grp"] == group].itertuples():
            tier = expected[f"tier_{row.tier}"]
            assert row.threshold == tier["threshold"]
            assert row.share_at_or_above == pytest.approx(tier["share"])
            assert row.precision == pytest.approx(tier["precision"])
            assert row.recall == pytest.approx(tier["recall"])


def test_sql_lift_finds_every_conversion_by_the_last_decile(macro_sql):
    rng = np.random.default_rng(6)
    n = 500  # a multiple of ten, so decile 1 is exactly the top tenth
    p = rng.random(n)
    rows = pd.DataFrame(
        {"grp": 0, "id": range(n), "p": p, "label": (rng.random(n) < p).astype(int)}
    )
    lift = run_macro(macro_sql["lift"], hand_made=rows).sort_values("bucket")
    top = rows.nlargest(n // 10, "p")
    assert lift["n"].tolist() == [n // 10] * 10
    assert lift["lift"].iloc[0] == pytest.approx(top["label"].mean() / rows["label"].mean())
    assert lift["cumulative_gain"].is_monotonic_increasing
    assert lift["cumulative_gain"].iloc[-1] == pytest.approx(1.0)
    assert lift["cumulative_share_of_leads"].iloc[-1] == pytest.approx(1.0)


# --------------------------------------------------------------------------- drift macros

REFERENCE = pd.DataFrame(
    {
        "feature": "x",
        "bin": [-1, 0, 1, 2, 3],
        "lower_edge": [None, None, 1.0, 2.0, 3.0],
        "upper_edge": [None, 1.0, 2.0, 3.0, None],
        "reference_share": [0.1, 0.2, 0.3, 0.2, 0.2],
    }
)


def values_with_shares(shares: list[float], n: int = 1000) -> pd.DataFrame:
    """n values of feature x spread over REFERENCE's bins (NULL first) in the given shares."""
    representative = [None, 0.5, 1.5, 2.5, 3.5]
    values: list[float | None] = []
    for value, share in zip(representative, shares, strict=True):
        values += [value] * round(share * n)
    return pd.DataFrame({"feature": "x", "value": pd.array(values, dtype="Float64")})


def psi_of(macro_sql: dict[str, str], current: pd.DataFrame) -> float:
    binned = run_macro(macro_sql["drift_bins"], current_values=current, reference=REFERENCE)
    return float(run_macro(macro_sql["psi"], binned=binned)["psi"][0])


def test_psi_of_an_unchanged_distribution_is_zero(macro_sql):
    assert psi_of(macro_sql, values_with_shares([0.1, 0.2, 0.3, 0.2, 0.2])) == 0.0


def test_psi_grows_with_the_shift(macro_sql):
    small = psi_of(macro_sql, values_with_shares([0.1, 0.15, 0.3, 0.2, 0.25]))
    larger = psi_of(macro_sql, values_with_shares([0.1, 0.05, 0.2, 0.25, 0.4]))
    emptied = psi_of(macro_sql, values_with_shares([0.0, 0.0, 0.1, 0.3, 0.6]))
    assert 0 < small < 0.1 < larger < emptied
    assert np.isfinite(emptied)  # empty bins count as epsilon, not as log(0)


def test_values_on_an_edge_fall_in_the_lower_bin_and_nulls_in_their_own(macro_sql):
    current = pd.DataFrame(
        {"feature": "x", "value": pd.array([1.0, 2.0, 3.0, 3.0000001, None, -50.0, 99.0])}
    )
    binned = run_macro(macro_sql["drift_bins"], current_values=current, reference=REFERENCE)
    counts = dict(zip(binned["bin"], binned["current_count"], strict=True))
    assert counts == {-1: 1, 0: 2, 1: 1, 2: 1, 3: 2}


# --------------------------------------------------------------------------- the scored demo


def open_leads_matrix(ws: Workspace) -> tuple[pd.DataFrame, np.ndarray, dict]:
    """lead_features of the leads not yet converted, encoded as the champion encodes them."""
    version = ws.sql("select any_value(model_version) from lead_scores")[0][0]
    metadata = load_artifact(version, ws.artifacts).metadata
    frame = ws.df("select * from lead_features where not is_converted order by lead_id")
    vocabularies = {
        f["name"]: f["vocabulary"] for f in metadata["features"] if f["kind"] == "categorical"
    }
    return frame, encode_features(frame, metadata["features"], vocabularies), metadata


def test_drift_bins_match_the_binning_of_the_training_reference(scored_workspace):
    ws = scored_workspace
    _, x, metadata = open_leads_matrix(ws)
    bins = ws.df("select feature, bin, current_share from feature_drift_bins")
    checked = 0
    for j, reference in enumerate(metadata["reference"]["features"]):
        expected = bin_shares(x[:, j].astype(np.float64), reference["edges"])
        actual = bins[bins["feature"] == reference["name"]].set_index("bin")["current_share"]
        assert actual.loc[-1] == pytest.approx(expected["null_share"], abs=1e-12), reference["name"]
        for b, share in enumerate(expected["shares"]):
            assert actual.loc[b] == pytest.approx(share, abs=1e-12), (reference["name"], b)
        checked += 1
    assert checked == len(metadata["features"])


def test_steady_data_shows_no_feature_drift(scored_workspace):
    """The demo's hidden process does not change, so the open leads a build scores look like
    the snapshots of the newest training fold: no feature's PSI reaches the error line. (A
    reference that kept the early cutoffs, an hour to a week after each lead's creation, put
    two dozen age and history features there on every build.)"""
    ws = scored_workspace
    settings = dbt_vars()
    drifting = ws.sql(
        "select feature, round(psi, 3) from feature_drift "
        f"where psi > {settings['psi_error']} and current_leads >= {settings['drift_min_leads']}"
    )
    assert drifting == []
    version = ws.sql("select any_value(model_version) from lead_scores")[0][0]
    reference = load_artifact(version, ws.artifacts).metadata["reference"]
    assert 0 < reference["rows"] < ws.sql("select count(*) from lead_training_set")[0][0]


def test_drift_covers_every_feature_and_the_score(scored_workspace):
    ws = scored_workspace
    features = {r[0] for r in ws.sql("select feature from feature_drift where psi >= 0")}
    version = ws.sql("select any_value(model_version) from lead_scores")[0][0]
    expected = {f["name"] for f in load_artifact(version, ws.artifacts).metadata["features"]}
    assert features == expected | {"__score__"}


def test_shap_contributions_add_up_to_the_raw_model_margin(scored_workspace):
    ws = scored_workspace
    _, x, metadata = open_leads_matrix(ws)
    con = duckdb.connect()
    try:
        udf.register(con, ws.artifacts)
        vectors = pa.table(
            {"v": pa.array([[None if np.isnan(v) else float(v) for v in r] for r in x])}
        )
        con.register("vectors", vectors)
        sums = np.array(
            [
                r[0]
                for r in con.execute(
                    "select list_sum(leadscore_contributions(?, v)) from vectors",
                    [metadata["version"]],
                ).fetchall()
            ]
        )
    finally:
        con.close()
    scorer = get_scorer(metadata["version"], ws.artifacts)
    # exactly LightGBM's own margin: TreeSHAP is additive
    margin = scorer.booster.predict(x.astype(np.float64), raw_score=True)
    np.testing.assert_allclose(sums, margin, rtol=0, atol=1e-9)
    # and the served (ONNX) model's probability, within the parity gate's tolerance; ONNX sums
    # its trees in float32, so its margin is off by up to an ulp of a partial sum (~2e-6 for
    # partial sums up to |16|) per tree
    raw = scorer.raw_proba(x)
    np.testing.assert_allclose(1 / (1 + np.exp(-sums)), raw, rtol=0, atol=1e-5)
    trees = scorer.booster.num_trees()
    np.testing.assert_allclose(sums, np.log(raw / (1 - raw)), rtol=0, atol=max(1e-5, trees * 2e-6))


def test_fit_and_engagement_scores_lie_between_0_and_100(scored_workspace):
    low_fit, high_fit, low_eng, high_eng, nulls = scored_workspace.sql(
        "select min(fit_score), max(fit_score), min(engagement_score), max(engagement_score), "
        "count(*) filter (where fit_score is null or engagement_score is null) from lead_scores"
    )[0]
    assert 0 <= low_fit <= high_fit <= 100
    assert 0 <= low_eng <= high_eng <= 100
    assert high_fit > low_fit and high_eng > low_eng
    assert nulls == 0


def test_without_a_second_version_the_challenger_table_is_empty(scored_workspace):
    ws = scored_workspace
    assert ws.sql("select count(*) from challenger_scores")[0][0] == 0
    columns = [r[0] for r in ws.sql("select column_name from (describe challenger_scores)")]
    assert {"lead_id", "champion_probability", "challenger_probability"} <= set(columns)
    assert ws.sql("select count(*) from champion_challenger_comparison")[0][0] == 0


# --------------------------------------------------------------------------- history


@dataclass
class History:
    """A copy of the scored demo with a challenger, rebuilt at the model's test cutoff (the
    past) and again at the end of the data, so the past snapshot's outcomes have matured."""

    ws: Workspace
    past: str
    champion: str
    challenger: str
    last_build: subprocess.CompletedProcess[str]


def add_challenger_copy(ws: Workspace, champion: str) -> str:
    """A second version: the champion's files under another name, recorded in the registry."""
    name = f"{champion}-copy"
    target = ws.artifacts / "models" / name
    shutil.copytree(ws.artifacts / "models" / champion, target)
    metadata = json.loads((target / "metadata.json").read_text())
    metadata["version"] = name
    (target / "metadata.json").write_text(json.dumps(metadata))
    ws.run(
        str(BIN / "leadscore"),
        "promote",
        "--sync",
        "--warehouse",
        str(ws.warehouse),
        "--artifacts",
        str(ws.artifacts),
    )
    return name


_HISTORIES: dict[Path, History] = {}


def build_history(scored: Workspace, tmp_path_factory: pytest.TempPathFactory) -> History:
    """The History of a scored workspace, built once per session (the report tests share it)."""
    if scored.root not in _HISTORIES:
        ws = scored.copy_to(tmp_path_factory.mktemp("history") / "ws")
        champion = ws.champion()
        metadata = load_artifact(champion, ws.artifacts).metadata
        past = max(metadata["training_window"]["test"]["cutoffs"])
        challenger = add_challenger_copy(ws, champion)
        ws.dbt("build", *SCORING, as_of=past, vars=ALLOW_QUARANTINE)
        last = ws.dbt("build", *SCORING)
        _HISTORIES[scored.root] = History(ws, past, champion, challenger, last)
    return _HISTORIES[scored.root]


@pytest.fixture(scope="session")
def history(scored_workspace: Workspace, tmp_path_factory: pytest.TempPathFactory) -> History:
    return build_history(scored_workspace, tmp_path_factory)


def test_history_keeps_one_row_per_lead_and_build(history):
    ws = history.ws
    counts = dict(
        ws.sql(
            "select strftime(as_of, '%Y-%m-%d %H:%M:%S'), count(*) "
            "from lead_score_history where scored_as = 'served' group by 1"
        )
    )
    leads_then = ws.sql(
        f"select count(*) from stg_raw__leads where created_at <= '{history.past}'"
    )[0][0]
    leads_now = ws.sql("select count(*) from lead_scores")[0][0]
    assert set(counts) == {history.past, DEMO_AS_OF}
    assert counts[history.past] == leads_then
    # DEMO_AS_OF was built twice (the demo, then again here): its rows replaced, not doubled
    assert counts[DEMO_AS_OF] == leads_now
    assert ws.sql(
        "select count(*) = count(distinct (lead_id, as_of, model_version, scored_as)) "
        "from lead_score_history"
    )[0][0]


def test_history_rows_of_a_rebuilt_snapshot_are_those_of_the_latest_build(history):
    ws = history.ws
    stale = ws.sql(
        """
        select count(*) from lead_score_history as h
        inner join lead_scores as s using (lead_id, as_of, model_version)
        where h.scored_as = 'served'
            and (h.scored_at != s.scored_at
                or h.conversion_probability != s.conversion_probability)
        """
    )[0][0]
    assert stale == 0


def served_at_past_with_outcomes(history: History) -> str:
    """SQL: the past snapshot's served scores of leads open then, each with its outcome worked
    out here from the raw conversions (converted within the label window after the snapshot):
    an independent source of the outcomes."""
    window = load_artifact(history.champion, history.ws.artifacts).metadata["label_window_days"]
    return f"""
        select
            h.*,
            coalesce(c.converted_at < h.as_of + interval {window} day, false)::int as label,
        from lead_score_history as h
        left join stg_raw__conversions as c on h.lead_id = c.lead_id
        where h.as_of = '{history.past}' and h.model_version = '{history.champion}'
            and h.scored_as = 'served'
            and (c.converted_at is null or c.converted_at >= h.as_of)
    """


def matured_truth(history: History) -> pd.DataFrame:
    """The past snapshot's served probabilities next to their outcomes."""
    return history.ws.df(
        f"""
        select lead_id, conversion_probability as p, label
        from ({served_at_past_with_outcomes(history)})
        """
    )


def test_evaluation_of_a_matured_snapshot_equals_scikit_learn(history):
    truth = matured_truth(history)
    row = history.ws.df(
        f"select * from model_evaluation where model_version = '{history.champion}'"
    ).iloc[0]
    assert str(row["as_of"]) == history.past
    assert row["n"] == len(truth)  # exactly the leads open at the snapshot
    assert row["positives"] == truth["label"].sum() > 0
    assert row["auc"] == pytest.approx(roc_auc_score(truth["label"], truth["p"]), abs=1e-9)
    assert row["brier"] == pytest.approx(brier_score_loss(truth["label"], truth["p"]), abs=1e-9)
    y, p = truth["label"].to_numpy(), truth["p"].to_numpy()
    assert row["ece"] == pytest.approx(expected_calibration_error(y, p), abs=1e-9)


def test_backtest_counts_the_conversions_of_each_tier_since_the_snapshot(history):
    ws = history.ws
    expected = ws.df(
        f"""
        select
            tier,
            count(*) as leads,
            sum(label) as converted,
            sum(conversion_probability) as expected,
        from ({served_at_past_with_outcomes(history)})
        group by tier
        """
    ).set_index("tier")
    backtest = ws.df(f"select * from score_backtest where as_of = '{history.past}'").set_index(
        "tier"
    )
    assert set(backtest.index) == set(expected.index)
    for tier, row in backtest.iterrows():
        assert row["leads"] == expected.loc[tier, "leads"]
        assert row["actual_conversions"] == expected.loc[tier, "converted"]
        assert row["expected_conversions"] == pytest.approx(expected.loc[tier, "expected"])
        assert row["is_window_complete"]
    assert ws.sql(f"select count(*) from score_backtest where as_of = '{DEMO_AS_OF}'")[0][0] == 0


def test_challenger_scores_the_same_leads_side_by_side(history):
    ws = history.ws
    versions, leads, largest_difference = ws.sql(
        "select list(distinct challenger_version), count(*), max(abs(probability_difference)) "
        "from challenger_scores"
    )[0]
    assert versions == [history.challenger]
    assert leads == ws.sql("select count(*) from lead_scores")[0][0]
    assert largest_difference < 1e-12  # the challenger is a copy of the champion


def test_one_history_table_holds_served_and_challenger_scores(history):
    ws = history.ws
    by_role = dict(
        ws.sql(
            f"""
            select scored_as, list(distinct model_version)
            from lead_score_history where as_of = '{history.past}' group by 1
            """
        )
    )
    assert by_role == {"served": [history.champion], "challenger": [history.challenger]}
    served, challenger = (
        ws.sql(
            f"""
            select count(*) from lead_score_history
            where as_of = '{history.past}' and scored_as = '{role}'
            """
        )[0][0]
        for role in ("served", "challenger")
    )
    assert served == challenger > 0  # the challenger scored the same leads


def test_an_identical_challenger_agrees_everywhere_and_ties_on_matured_outcomes(history):
    rows = history.ws.df("select * from champion_challenger_comparison order by basis")
    assert rows["basis"].tolist() == ["current", "matured"]
    current, matured = rows.iloc[0], rows.iloc[1]
    assert current["rank_correlation"] == pytest.approx(1.0)
    assert current["tier_agreement"] == 1.0
    assert str(matured["as_of"]) == history.past
    assert matured["challenger_auc"] == pytest.approx(matured["champion_auc"])
    assert matured["auc_difference"] == pytest.approx(0.0)


def test_segments_cover_every_configured_attribute_and_add_up(history):
    rows = history.ws.df(
        f"select * from model_segment_evaluation where model_version = '{history.champion}'"
    )
    overall = history.ws.sql(
        f"select n from model_evaluation where model_version = '{history.champion}'"
    )[0][0]
    assert set(rows["segment_name"]) == {"lead_source", "industry", "company_size", "country"}
    assert (rows.groupby("segment_name")["n"].sum() == overall).all()
    assert not rows.loc[~rows["has_enough_outcomes"], "is_flagged"].any()


def test_a_full_refresh_keeps_the_history(history):
    ws = history.ws
    before = ws.sql("select count(*) from lead_score_history")[0][0]
    ws.dbt("build", "--select", "lead_score_history", "--full-refresh")
    assert ws.sql("select count(*) from lead_score_history")[0][0] == before
    assert (
        ws.sql(f"select count(*) from lead_score_history where as_of = '{history.past}'")[0][0] > 0
    )


@pytest.fixture(scope="module")
def strict_tests(history: History) -> subprocess.CompletedProcess[str]:
    """The monitoring tests rerun with features allowed to fail the build (error above PSI 0.1)
    and an AUC that must beat its test AUC by 0.5, which no model can."""
    return history.ws.dbt(
        "test",
        "--select",
        "feature_drift",
        "model_evaluation",
        check=False,
        vars="psi_error_scope: all, psi_error: 0.1, auc_drop_warn: -0.5",
    )


def test_feature_drift_above_the_limit_warns_by_default(history):
    assert re.search(r"WARN \d+ feature_drift_within_limits", history.last_build.stdout)
    assert re.search(r"PASS score_drift_within_limits", history.last_build.stdout)


def test_feature_drift_above_the_limit_fails_the_build_when_features_gate(strict_tests):
    assert strict_tests.returncode != 0
    assert re.search(r"FAIL \d+ feature_drift_within_limits", strict_tests.stdout)


def test_matured_auc_near_its_test_auc_passes(history):
    assert re.search(r"PASS auc_near_test_auc", history.last_build.stdout)


def test_matured_auc_far_below_its_test_auc_warns(strict_tests):
    assert re.search(r"WARN \d+ auc_near_test_auc", strict_tests.stdout)


def test_without_a_registry_the_build_succeeds_and_monitoring_warns(scored_workspace, tmp_path):
    """A model trained against another warehouse and copied in: the registry tables are
    missing, so drift stays empty and the build warns how to fill them instead of failing."""
    ws = scored_workspace.copy_to(tmp_path / "ws")
    con = duckdb.connect(str(ws.warehouse))
    try:
        con.execute("drop schema leadscore_models cascade")
    finally:
        con.close()
    # lead_scores itself never reads the registry; the monitoring models after it do
    result = ws.dbt("build", "--select", "tag:scoring", "--exclude", "lead_scores")
    assert "leadscore promote --sync" in result.stdout
    assert re.search(r"WARN \d+ scored_model_is_in_the_registry", result.stdout)
    assert ws.sql("select count(*) from feature_drift")[0][0] == 0
    assert ws.sql("select count(*) from lead_score_history")[0][0] > 0
