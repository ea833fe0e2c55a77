"""The data-quality and drift gates say in words what is at fault: the feature and its PSI
against the two lines, the input and the share of its rows rejected; dbt's own count is the
number of features or inputs at fault, never a share scaled to parts per million."""

from __future__ import annotations

import re
import subprocess

import pytest

from conftest import Workspace
from leadscore.config import dbt_vars

PSI_WARN, PSI_ERROR = 0.15, 0.2
REJECTED_WARN, REJECTED_ERROR = 0.001, 0.002


@pytest.fixture(scope="module")
def tripped(scored_workspace: Workspace) -> subprocess.CompletedProcess[str]:
    """The drift and rejected-share gates rerun on the demo with lines low enough to trip."""
    return scored_workspace.dbt(
        "test",
        "--select",
        "feature_drift",
        "rejected_rows",
        check=False,
        vars=f"psi_warn: {PSI_WARN}, psi_error: {PSI_ERROR}, psi_error_scope: all, "
        f"rejected_share_warn: {REJECTED_WARN}, rejected_share_error: {REJECTED_ERROR}",
    )


def test_drift_gate_names_each_feature_and_its_psi_against_the_lines(tripped, scored_workspace):
    drifting = scored_workspace.sql(
        "select feature, psi from feature_drift where feature <> '__score__' "
        f"and psi > {PSI_WARN} and current_leads >= {dbt_vars()['drift_min_leads']} "
        "order by psi desc"
    )
    assert drifting, "the demo has no feature drifting beyond the lowered line"
    assert tripped.returncode != 0
    for feature, psi in drifting:
        line = (
            f"is above the error line {PSI_ERROR}"
            if psi > PSI_ERROR
            else f"is above the warn line {PSI_WARN} (error above {PSI_ERROR})"
        )
        assert f"feature {feature}: PSI {psi:.3f} {line}" in tripped.stdout
    assert f"Got {len(drifting)} results, configured to fail if > 0 and max(psi) > {PSI_ERROR}" in (
        tripped.stdout
    )


def test_rejected_share_gate_names_the_input_and_its_share(tripped, scored_workspace):
    (rejected,) = scored_workspace.sql(
        "select count(*) from rejected_rows where input_name = 'events'"
    )[0]
    assert rejected > 0
    found = re.search(
        r"Input events: (\d+\.\d)% of its rows rejected \((\d+) of (\d+)\); warn above 0\.1%, "
        r"fail above 0\.2%\. It fails the build\.",
        tripped.stdout,
    )
    assert found, tripped.stdout[-3000:]
    assert int(found.group(2)) == rejected
    assert float(found.group(1)) == pytest.approx(100 * rejected / int(found.group(3)), abs=0.05)
    assert re.search(r"FAIL 1 rejected_share_events", tripped.stdout)


def test_no_gate_reports_a_scaled_count(tripped):
    assert not re.search(r"Got \d{4,} results", tripped.stdout)
    assert not re.search(r"(WARN|FAIL) \d{4,} ", tripped.stdout)
