"""`leadscore promote --challenger` acts on the champion/challenger comparison mart."""

from pathlib import Path

import duckdb

from leadscore.cli import challenger_verdict


def _comparison(path: Path, challenger_auc: float, challenger_brier: float) -> Path:
    con = duckdb.connect(str(path))
    con.execute(
        """
        create table champion_challenger_comparison as
        select 'v1' as champion_version, 'v2' as challenger_version, 'current' as basis,
               timestamp '2026-05-01' as as_of, 900 as n, null::double as champion_auc,
               null::double as challenger_auc, null::double as champion_brier,
               null::double as challenger_brier
        union all
        select 'v1', 'v2', 'matured', timestamp '2026-03-01', 800, 0.80, ?, 0.050, ?
        """,
        [challenger_auc, challenger_brier],
    )
    con.close()
    return path


def test_challenger_that_is_no_worse_on_matured_outcomes_is_promoted(tmp_path):
    verdict, version = challenger_verdict(_comparison(tmp_path / "w.duckdb", 0.82, 0.049))
    assert version == "v2"
    assert verdict.startswith("ok")


def test_challenger_with_lower_auc_is_refused(tmp_path):
    verdict, version = challenger_verdict(_comparison(tmp_path / "w.duckdb", 0.78, 0.049))
    assert version == "v2"
    assert verdict.startswith("refused") and "0.7800" in verdict


def test_without_the_comparison_mart_it_says_to_build(tmp_path):
    path = tmp_path / "w.duckdb"
    duckdb.connect(str(path)).close()
    verdict, version = challenger_verdict(path)
    assert version is None and "dbt build" in verdict
