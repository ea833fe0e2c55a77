"""``leadscore report``: the HTML page is written from the warehouse, holds every section,
needs nothing from outside, and renders in a real (headless) browser."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pandas as pd
import pytest

from conftest import Workspace
from leadscore import report
from test_monitoring import History, build_history

SECTION_IDS = tuple(report.SECTIONS)


def write_report(ws: Workspace, out: Path) -> str:
    code = report.main(
        ["--warehouse", str(ws.warehouse), "--artifacts", str(ws.artifacts), "--out", str(out)]
    )
    assert code == 0
    return out.read_text(encoding="utf-8")


@pytest.fixture(scope="session")
def history(scored_workspace: Workspace, tmp_path_factory: pytest.TempPathFactory) -> History:
    """The scored demo with a matured past snapshot (shared with test_monitoring)."""
    return build_history(scored_workspace, tmp_path_factory)


@pytest.fixture(scope="module")
def demo_report(scored_workspace: Workspace, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("report") / "reports" / "leadscore_report.html"
    write_report(scored_workspace, out)
    return out


def test_report_is_written_with_every_section(demo_report):
    page = demo_report.read_text(encoding="utf-8")
    for key in SECTION_IDS:
        assert f'<section id="{key}">' in page, key


def test_report_draws_calibration_score_distribution_and_drift_charts(demo_report):
    page = demo_report.read_text(encoding="utf-8")
    for label in ("calibration curve", "score distribution by tier", "drift per feature"):
        assert f'aria-label="{label}"' in page, label


def test_report_lists_the_highest_scored_lead_with_its_reasons(demo_report, scored_workspace):
    lead_id, reasons = scored_workspace.sql(
        "select lead_id, top_reasons from lead_scores "
        "order by conversion_probability desc, lead_id limit 1"
    )[0]
    top_leads = demo_report.read_text(encoding="utf-8").split('<section id="top-leads">')[1]
    assert f"<td>{lead_id}</td>" in top_leads
    assert reasons.split("; ")[0] in top_leads


def test_report_needs_nothing_from_outside(demo_report):
    page = demo_report.read_text(encoding="utf-8")
    assert "<script" not in page
    assert "<link" not in page
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", page)


def test_report_without_matured_outcomes_says_when_they_come(demo_report):
    lift = demo_report.read_text(encoding="utf-8").split('<section id="lift">')[1]
    lift = lift.split("</section>")[0]
    assert "No matured outcomes yet" in lift
    assert "90 days" in lift


def test_report_shows_matured_outcomes_once_history_has_them(history, tmp_path):
    page = write_report(history.ws, tmp_path / "report.html")
    snapshot = history.past[:10]
    assert f"matured outcomes, snapshot {snapshot}" in page
    assert 'aria-label="lift over the average rate"' in page
    assert 'aria-label="cumulative gain"' in page
    segments = page.split('<section id="segments">')[1].split("</section>")[0]
    assert "<td>lead_source</td>" in segments
    comparison = page.split('<section id="champion-challenger">')[1].split("</section>")[0]
    assert history.challenger in comparison


def test_report_without_scores_says_what_to_do(workspace, capsys):
    code = report.main(["--warehouse", str(workspace.warehouse), "--out", str(workspace.root)])
    assert code == 2
    assert "make demo" in capsys.readouterr().err


def test_report_escapes_text_that_comes_from_the_data():
    scores = pd.DataFrame(
        {"conversion_probability": [0.6, 0.2], "score": [60, 20], "tier": ["A", "C"]}
    )
    top = pd.DataFrame(
        {
            "lead_id": ["<script>alert(1)</script>", "L2"],
            "score": [60, 20],
            "tier": ["A", "C"],
            "fit_score": [50, 10],
            "engagement_score": [40, 20],
            "conversion_probability": [0.6, 0.2],
            "top_reasons": ["Job title: <b>VP</b>", ""],
            "top_factors": [
                '[{"feature": "job_title", "value": "<b>VP</b>", "contribution": 0.5, '
                '"reason": "Job title: <b>VP</b>"}]',
                "[]",
            ],
        }
    )
    page = report.render_report(report.ReportData("v1", "2026-06-01 00:00:00", scores, top))
    assert "<script>" not in page and "<b>VP</b>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "Job title: &lt;b&gt;VP&lt;/b&gt;" in page


# --------------------------------------------------------------------------- in a browser


def chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


HEADLESS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
)


@pytest.mark.skipif(chromium() is None, reason="chromium is not installed")
def test_report_renders_in_a_headless_browser(history, tmp_path):
    page = tmp_path / "report.html"
    write_report(history.ws, page)
    browser = str(chromium())
    dom = subprocess.run(
        [browser, *HEADLESS, "--dump-dom", page.as_uri()],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert dom.returncode == 0, dom.stderr[-2000:]
    # the browser parsed every chart and section, not a page cut short by bad markup
    assert dom.stdout.count("<svg") == page.read_text(encoding="utf-8").count("<svg") >= 5
    assert all(f'id="{key}"' in dom.stdout for key in SECTION_IDS)
    shot = tmp_path / "report.png"
    subprocess.run(
        [browser, *HEADLESS, f"--screenshot={shot}", "--window-size=1200,3000", page.as_uri()],
        capture_output=True,
        timeout=120,
        check=True,
    )
    # a blank page compresses to a few kB; charts and tables take far more
    assert shot.stat().st_size > 100_000
