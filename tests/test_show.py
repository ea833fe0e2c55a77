"""``leadscore show``: the top open leads with their reasons (the same leads as the report), no
table type rows, the champion's test metrics, and a warning when the scores are from another
model version than the champion."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import duckdb
import pytest

from conftest import BIN, Workspace
from leadscore import report


def show(ws: Workspace, *args: str) -> str:
    return ws.run(str(BIN / "leadscore"), "show", *args).stdout


@pytest.fixture(scope="module")
def shown(scored_workspace: Workspace) -> str:
    return show(scored_workspace, "--database", str(scored_workspace.warehouse), "--top", "20")


def test_show_lists_the_same_open_leads_as_the_report(shown, scored_workspace):
    data = report.load_report(scored_workspace.warehouse, scored_workspace.artifacts, top=20)
    listed = re.findall(r"^  (\S+) \(score \d+, tier \w\):$", shown, flags=re.MULTILINE)
    assert listed == list(data.top_leads["lead_id"])
    converted = {r[0] for r in scored_workspace.sql(
        "select lead_id from lead_scores where is_converted")}
    assert converted and not converted & set(listed)


def test_show_prints_each_top_lead_with_its_reasons(shown, scored_workspace):
    lead_id, reasons = scored_workspace.sql(
        "select lead_id, top_reasons from lead_scores where not is_converted "
        "order by conversion_probability desc, lead_id limit 1"
    )[0]
    after = shown.split(f"  {lead_id} (score")[1].splitlines()[1:]
    printed = []
    for line in after:
        if not line.startswith("    - "):
            break
        printed.append(line.removeprefix("    - "))
    assert printed == reasons.split("; ")


def test_show_prints_no_table_type_rows(shown):
    for type_name in ("varchar", "int32", "int64", "double", "decimal", "boolean"):
        assert type_name not in shown.lower()
    assert "┌" not in shown and "│" not in shown


def test_show_prints_the_champion_test_auc_beside_its_baseline(shown, scored_workspace):
    champion = scored_workspace.champion()
    auc, rule = scored_workspace.sql(
        "select test_auc, rule_based_auc from leadscore_models.model_registry "
        f"where model_version = '{champion}'"
    )[0]
    assert f"Champion model {champion}, test fold:" in shown
    assert f"AUC {auc:.3f}" in shown and f"rule-based {rule:.3f}" in shown
    assert "warning:" not in shown


def test_show_warns_when_the_scores_are_from_another_version(scored_workspace, tmp_path: Path):
    scores = tmp_path / "leadscore.duckdb"
    shutil.copy(scored_workspace.warehouse, scores)
    con = duckdb.connect(str(scores))
    con.execute("update lead_scores set model_version = '20200101T000000Z'")
    con.close()
    out = show(scored_workspace, "--database", str(scores), "--top", "1")
    assert "these scores are from model 20200101T000000Z" in out
    assert f"the champion is {scored_workspace.champion()}" in out
    assert "leadscore build" in out
