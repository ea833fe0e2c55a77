"""Honest models on realistic funnels: training rows that mirror scoring, and test metrics that
hold on a later period nobody looked at.

One fast-converter simulation of 18 months is built twice: first as of six months before its
end (train a model, read the metrics it reports), then as of a date after the data ended (the
build must say so, and the later, untouched period grades the reported metrics).
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from conftest import BIN, Workspace
from leadscore.artifacts import champion_version, load_artifact
from leadscore.metrics import auc
from leadscore.report.data import ReportData
from leadscore.report.page import render_report
from leadscore.scoring import Scorer
from leadscore.show import model_line
from leadscore.training import TrainConfig, TrainingError, encode_features, train_model

WINDOW = "label_window_days: 30"
END = date(2026, 6, 1)
EARLY_AS_OF = "2025-12-01 00:00:00"  # six months before the data ends
LATE_AS_OF = "2026-09-01 00:00:00"  # three months after it ended
FEATURE_MODELS = ("--select", "+lead_training_set", "--exclude-resource-type", "test", "unit_test")


def generate(ws: Workspace, mode: str, leads: int, months: int) -> None:
    ws.run(
        str(BIN / "leadscore"), "generate", "--leads", str(leads), "--seed", "11",
        "--end", END.isoformat(), "--months", str(months), "--mode", mode,
        "--label-window-days", "30", "--out", str(ws.raw), "--truth-out", str(ws.truth),
        "--quiet",
    )  # fmt: skip


def train(ws: Workspace, *args: str) -> dict:
    ws.train("--backtest-periods", "2", *args)
    return load_artifact(champion_version(ws.artifacts), ws.artifacts).metadata


@dataclass
class History:
    ws: Workspace
    metadata: dict  # the model trained as of EARLY_AS_OF
    late_build: subprocess.CompletedProcess[str]  # the build as of LATE_AS_OF


@pytest.fixture(scope="session")
def fast_history(tmp_path_factory: pytest.TempPathFactory) -> History:
    ws = Workspace(tmp_path_factory.mktemp("fast_history"))
    generate(ws, "fast", leads=6000, months=18)
    ws.dbt("build", *FEATURE_MODELS, as_of=EARLY_AS_OF, vars=WINDOW)
    # a 90-day test period: enough new leads for the reported AUC to be more than noise
    metadata = train(ws, "--test-days", "90")
    late = ws.dbt("build", *FEATURE_MODELS, as_of=LATE_AS_OF, vars=WINDOW)
    return History(ws, metadata, late)


def test_fast_converters_are_positives_at_their_early_cutoffs(fast_history):
    ws = fast_history.ws
    fast, positive = ws.sql(
        """
        select
            count(distinct c.lead_id),
            count(distinct t.lead_id) filter (where t.label = 1 and t.cutoff_kind = 'early'),
        from stg_raw__conversions as c
        inner join stg_raw__leads as l using (lead_id)
        left join lead_training_set as t using (lead_id)
        where c.converted_at between l.created_at + interval 1 hour
            and l.created_at + interval 1 day
            and l.created_at < timestamp '2026-04-01'
        """
    )[0]
    assert fast > 50
    assert positive == fast  # every lead converting on its first day is a positive


def test_a_build_after_the_data_ended_says_which_as_of_to_use(fast_history):
    out = fast_history.late_build.stdout
    assert "the data ends at 2026-05-31" in out and "--vars \"{as_of: '2026-05-31" in out
    newest, positives = fast_history.ws.sql(
        "select max(as_of), sum(label) from lead_training_set"
    )[0]
    # cutoffs follow the data's end (minus the 30-day window), not the build's as_of
    assert pd.Timestamp(newest) <= pd.Timestamp("2026-05-02") and positives > 100


def later_new_leads(history: History) -> tuple[np.ndarray, np.ndarray, pd.DataFrame]:
    """Labels and served probabilities of leads created after the model's data ended, at their
    early cutoffs: a period no part of training saw."""
    ws = history.ws
    artifact = load_artifact(history.metadata["version"], ws.artifacts)
    frame = ws.df(
        f"""
        select t.*
        from lead_training_set as t
        inner join stg_raw__leads as l on t.lead_id = l.lead_id
        where t.cutoff_kind = 'early' and l.created_at >= timestamp '{EARLY_AS_OF}'
        """
    )
    vocabularies = {
        f["name"]: f["vocabulary"] for f in artifact.metadata["features"] if "vocabulary" in f
    }
    x = encode_features(frame, artifact.metadata["features"], vocabularies)
    return frame["label"].to_numpy(), Scorer(artifact).predict_proba(x), frame


def test_reported_new_lead_auc_holds_on_a_later_untouched_period(fast_history):
    reported = fast_history.metadata["metrics"]["segments"]["new_leads"]["model"]["auc"]
    y, p, _ = later_new_leads(fast_history)
    assert y.sum() > 100
    assert abs(auc(y, p) - reported) <= 0.03, (auc(y, p), reported)


def test_new_lead_auc_comes_close_to_the_oracle_on_the_same_rows(fast_history):
    new_leads = fast_history.metadata["metrics"]["segments"]["new_leads"]
    assert new_leads["oracle_auc"] > 0.5
    assert new_leads["model"]["auc"] >= 0.95 * new_leads["oracle_auc"]


def test_metrics_name_new_and_established_leads_with_baselines_on_the_same_rows(fast_history):
    segments = fast_history.metadata["metrics"]["segments"]
    for name in ("new_leads", "established_leads"):
        baselines = segments[name]["baselines"]
        assert set(baselines) == {"lead_age_auc", "rule_based_auc", "logistic_regression_auc"}
    assert segments["new_leads"]["model"]["n"] + segments["established_leads"]["model"]["n"] <= (
        segments["all"]["model"]["n"]
    )
    backtest = fast_history.metadata["metrics"]["backtest"]
    assert backtest["periods_evaluated"] == 2 and set(backtest["summary"]["auc"]) == {
        "mean", "std"
    }  # fmt: skip


def test_training_records_the_label_window_the_set_was_built_with(fast_history):
    # built with --vars label_window_days: 30; dbt_project.yml says 90
    assert fast_history.metadata["label_window_days"] == 30
    assert fast_history.metadata["training_window"]["embargo_days"] == 7


SHIFT_WARNING = "Calibration is off on the test period as a whole"


def test_a_regime_shift_shows_in_the_calibration_report(tmp_path: Path):
    ws = Workspace(tmp_path)
    generate(ws, "shift", leads=3000, months=12)
    ws.dbt("build", *FEATURE_MODELS, vars=WINDOW)
    metadata = train(ws, "--backtest-periods", "0")
    metrics = metadata["metrics"]
    # the late leads convert more often than the model was calibrated for: it under-predicts,
    # by more than chance allows, although no reliability bin is 0.05 off (a low base rate)
    level = metrics["test_calibration_in_the_large"]
    assert level["observed_over_expected"] > 1.2 and level["z"] > 3, level
    warning = next(w for w in metrics["warnings"] if w.startswith(SHIFT_WARNING))
    assert f"{level['observed_rate']:.2%} converted" in warning and "more conversions" in warning
    # leadscore show and the report say it too
    champion = ws.df("select * from leadscore_models.model_registry where is_champion")
    shown = "\n".join(model_line(champion.iloc[0].to_dict()))
    assert f"{level['observed_rate']:.1%} converted where {level['mean_predicted']:.1%}" in shown
    assert SHIFT_WARNING in shown
    top = ws.df(
        """
        select lead_id, 30 as score, 'B' as tier, 20 as fit_score, 10 as engagement_score,
            0.3 as conversion_probability, '' as top_reasons, '[]' as top_factors
        from stg_raw__leads limit 1
        """
    )
    page = render_report(ReportData(metadata["version"], EARLY_AS_OF, top, top, metadata))
    assert "Converted against predicted" in page and SHIFT_WARNING in page
    assert f"{level['observed_rate']:.1%}" in page


def test_the_shift_check_does_not_fire_on_true_probabilities(fast_history):
    # the same check on the generator's true probabilities of the same test rows: calibrated by
    # construction, they must not look shifted (no false alarm from the statistic itself)
    truth = fast_history.metadata["metrics"]["oracle_test_calibration_in_the_large"]
    assert abs(truth["z"]) < 3 and abs(truth["observed_over_expected"] - 1) < 0.15, truth


def test_the_worst_calibration_gap_stays_near_what_chance_gives(fast_history):
    # the generator's true probabilities are calibrated by construction: their worst bin gap on
    # the same test rows is what chance alone gives with 100-200 rows in a bin
    metrics = fast_history.metadata["metrics"]
    floor = metrics["oracle_test_worst_bin_gap"]
    assert floor is not None and floor > 0
    assert metrics["test_worst_bin_gap"] <= 2.5 * floor, (metrics["test_worst_bin_gap"], floor)


LOCK_HOLDER = """
import sys, time, duckdb
con = duckdb.connect(sys.argv[1])
print("locked", flush=True)
time.sleep(120)
"""


def take_the_warehouse(warehouse: Path, holders: list[subprocess.Popen[str]]) -> None:
    """Another process (a dbt build, say) takes the warehouse and holds it until killed."""
    process = subprocess.Popen(
        [sys.executable, "-c", LOCK_HOLDER, str(warehouse)], stdout=subprocess.PIPE, text=True
    )
    holders.append(process)
    assert process.stdout.readline().strip() == "locked"


def train_failing_on_the_lock(
    ws: Workspace, version: str, holders: list[subprocess.Popen[str]], expected: str
) -> None:
    """Train `version` in ws (the lock taken by a patched step), expecting TrainingError."""
    config = TrainConfig(
        warehouse=ws.warehouse, artifacts=ws.artifacts, min_fold_rows=20, min_data_in_leaf=10,
        threads=1, version=version, backtest_periods=0,
    )  # fmt: skip
    try:
        with pytest.raises(TrainingError, match=expected):
            train_model(config)
    finally:
        for process in holders:
            process.kill()
            process.wait()


def test_a_locked_warehouse_at_the_end_says_what_to_do_and_keeps_the_champion(
    fast_history, tmp_path, monkeypatch
):
    ws = fast_history.ws.copy_to(tmp_path / "ws")
    champion = ws.champion()
    holders: list[subprocess.Popen[str]] = []
    import leadscore.training as training

    load = training.load_training_set

    def load_then_lock(warehouse: Path) -> pd.DataFrame:
        frame = load(warehouse)
        # another process (a dbt build) takes the warehouse while the model trains
        take_the_warehouse(warehouse, holders)
        return frame

    monkeypatch.setattr(training, "load_training_set", load_then_lock)
    monkeypatch.setenv("LEADSCORE_TRUTH_DIR", str(ws.truth))
    train_failing_on_the_lock(
        ws, "while-locked", holders, r"while-locked.*not the champion.*leadscore promote"
    )
    assert ws.champion() == champion
    assert json.loads(
        (ws.artifacts / "models" / "while-locked" / "metadata.json").read_text()
    )["version"] == "while-locked"


def test_a_warehouse_locked_after_the_switch_says_the_model_is_champion(
    fast_history, tmp_path, monkeypatch
):
    """The champion is switched after the registry recorded the model; when the warehouse is
    taken just then, the message says what is true: the new model scores, the registry's
    champion flag lags until `leadscore promote --sync`."""
    ws = fast_history.ws.copy_to(tmp_path / "ws")
    holders: list[subprocess.Popen[str]] = []
    import leadscore.training as training

    switch = training.set_champion

    def switch_then_lock(version: str, root: Path) -> None:
        switch(version, root)
        take_the_warehouse(ws.warehouse, holders)

    monkeypatch.setattr(training, "set_champion", switch_then_lock)
    monkeypatch.setenv("LEADSCORE_TRUTH_DIR", str(ws.truth))
    train_failing_on_the_lock(
        ws, "switched", holders,
        r"switched is recorded and is now the champion.*leadscore promote --sync",
    )  # fmt: skip
    assert ws.champion() == "switched"
    recorded = ws.sql(
        "select model_version, is_champion from leadscore_models.model_registry "
        "where model_version = 'switched'"
    )
    assert recorded == [("switched", False)]  # recorded; the flag waits for promote --sync


def test_train_with_a_label_window_rebuilds_the_set_and_records_that_window(
    fast_history, tmp_path
):
    """`train.py --label-window-days N` rebuilds lead_training_set with N, and the model says N
    (the set of this history was built with 30; dbt_project.yml says 90)."""
    ws = fast_history.ws.copy_to(tmp_path / "ws")
    train(ws, "--label-window-days", "45", "--version", "window45")
    metadata = load_artifact("window45", ws.artifacts).metadata
    assert metadata["label_window_days"] == 45
    assert ws.sql("select distinct label_window_days from lead_training_set") == [(45,)]
