"""``leadscore report``: the HTML page is written from the warehouse, holds every section,
needs nothing from outside, and renders in a real (headless) browser."""

from __future__ import annotations

import html
import json
import re
import shutil
import subprocess
from pathlib import Path

import pandas as pd
import pytest

from conftest import ROOT, Workspace
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


DAY_ONE_CHARTS = (
    "calibration curve",
    "score distribution by tier",
    "drift per feature",
    "test fold lift",
    "model and rule-based AUC",
    "model score by rule-based score",
    "key factors",
    "rejected rows",
)


def section(page: str, key: str) -> str:
    return page.split(f'<section id="{key}">')[1].split("</section>")[0]


def test_report_draws_its_charts_on_day_one(demo_report):
    page = demo_report.read_text(encoding="utf-8")
    for label in DAY_ONE_CHARTS:
        assert f'aria-label="{label}"' in page, label


def test_report_lists_the_highest_scored_open_lead_with_its_reasons_and_context(
    demo_report, scored_workspace
):
    lead_id, reasons, title, source = scored_workspace.sql(
        "select scores.lead_id, scores.top_reasons, features.job_title, features.lead_source "
        "from lead_scores as scores join lead_features as features using (lead_id) "
        "where not scores.is_converted "
        "order by scores.conversion_probability desc, scores.lead_id limit 1"
    )[0]
    top_leads = section(demo_report.read_text(encoding="utf-8"), "top-leads")
    first_row = top_leads.split("<tbody><tr>")[1].split("</tr>")[0]
    assert f"<td>{lead_id}</td>" in first_row
    assert f"<td>{title}</td>" in first_row and f"<td>{source}</td>" in first_row
    assert reasons.split("; ")[0] in first_row
    assert "<th>job title</th>" in top_leads and "<th>lead source</th>" in top_leads


def test_report_leaves_converted_leads_out_of_lists_and_tiers(demo_report, scored_workspace):
    page = demo_report.read_text(encoding="utf-8")
    converted = [r[0] for r in scored_workspace.sql(
        "select lead_id from lead_scores where is_converted order by conversion_probability desc"
    )]
    assert converted
    top_leads = section(page, "top-leads")
    assert not [lead for lead in converted if f"<td>{lead}</td>" in top_leads]
    open_leads = scored_workspace.sql("select count(*) from lead_scores where not is_converted")
    assert f"The {open_leads[0][0]:,} open leads" in section(page, "score-distribution")


def test_report_prints_shares_as_percents_and_counts_as_whole_numbers(demo_report):
    page = demo_report.read_text(encoding="utf-8")
    tiers = section(page, "score-distribution").split("<tbody>")[1]
    cells = [re.findall(r"<td>([^<]*)</td>", row) for row in tiers.split("<tr>")[1:]]
    assert cells
    for _, _, leads, share, mean, expected in cells:
        assert re.fullmatch(r"[\d,]+", leads) and re.fullmatch(r"[\d,]+", expected), expected
        assert share.endswith("%") and mean.endswith("%"), (share, mean)
    assert not re.search(r">-0\.0+<", page)


def test_report_shows_the_test_fold_where_nothing_has_matured(demo_report, scored_workspace):
    page = demo_report.read_text(encoding="utf-8")
    auc, rule = scored_workspace.sql(
        "select test_auc, rule_based_auc from leadscore_models.model_registry where is_champion"
    )[0]
    for key in ("lift", "model-vs-rules", "segments"):
        assert "Test fold at training (no outcome has matured since)" in section(page, key), key
    segments = section(page, "segments")
    assert f"<td>{auc:.3f}</td>" in segments and f"<td>{rule:.3f}</td>" in segments


def test_report_calibration_shows_an_interval_per_bin(demo_report, scored_workspace):
    from leadscore.artifacts import load_artifact

    bins = load_artifact(scored_workspace.champion(), scored_workspace.artifacts).metadata[
        "metrics"
    ]["test_reliability"]
    calibration = section(demo_report.read_text(encoding="utf-8"), "calibration")
    assert calibration.count('class="interval"') == len(bins)
    assert "95% interval" in calibration


def test_report_counts_rejected_rows_by_input_and_reason(demo_report, scored_workspace):
    rows = scored_workspace.sql(
        "select input_name, reject_reason, count(*) from rejected_rows group by all"
    )
    quality = section(demo_report.read_text(encoding="utf-8"), "data-quality")
    assert rows
    for name, reason, n in rows:
        assert f"{name}: {reason}" in quality and f"{name}: {reason}: {n:.0f}" in quality


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
    trends = section(page, "trends")
    assert 'aria-label="tier mix over builds"' in trends
    assert 'aria-label="tier A leads per build"' in trends
    assert 'aria-label="actual and expected conversions by tier"' in section(
        page, "actual-vs-expected"
    )
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


# Run in the browser after layout: what overflows the viewport, and what the page holds.
LAYOUT_PROBE = """<script>
const width = document.documentElement.clientWidth;
const overflowing = [...document.querySelectorAll("body *")]
  .filter((e) => e.getBoundingClientRect().right > width + 1)
  .map((e) => e.tagName.toLowerCase() + " in #" + (e.closest("section") || {id: "page"}).id);
const probe = document.createElement("pre");
probe.id = "layout-probe";
probe.hidden = true;
probe.textContent = JSON.stringify({
  width: width,
  scrollWidth: document.documentElement.scrollWidth,
  overflowing: [...new Set(overflowing)],
  sections: [...document.querySelectorAll("section")].map((e) => e.id),
  charts: [...document.querySelectorAll("svg[aria-label]")]
    .map((e) => e.getAttribute("aria-label")),
  topLeadRows: document.querySelectorAll("#top-leads tbody tr").length,
});
document.body.appendChild(probe);
</script>"""


def browser_layout(browser: str, page: Path, width: int, profile: Path) -> dict:
    """The page's layout as Chromium lays it out in a window `width` pixels wide."""
    probed = page.with_name(f"probed-{width}.html")
    probed.write_text(
        page.read_text(encoding="utf-8").replace("</body>", LAYOUT_PROBE + "</body>"),
        encoding="utf-8",
    )
    dom = subprocess.run(
        [browser, *HEADLESS, f"--user-data-dir={profile}", f"--window-size={width},1200",
         "--dump-dom", probed.as_uri()],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert dom.returncode == 0, dom.stderr[-2000:]
    found = re.search(r'<pre id="layout-probe" hidden="">(.*?)</pre>', dom.stdout, re.DOTALL)
    assert found, "the layout probe did not run"
    return json.loads(html.unescape(found.group(1)))


@pytest.mark.skipif(chromium() is None, reason="chromium is not installed")
def test_report_renders_in_a_headless_browser_at_1400_and_800_pixels(history, tmp_path):
    page = tmp_path / "report.html"
    write_report(history.ws, page)
    browser = str(chromium())
    svgs = page.read_text(encoding="utf-8").count("<svg")
    for width in (1400, 800):
        layout = browser_layout(browser, page, width, tmp_path / f"profile-{width}")
        assert width - 30 <= layout["width"] <= width  # less a scrollbar
        # every section and chart was parsed, not a page cut short by bad markup
        assert layout["sections"] == list(SECTION_IDS)
        assert len(layout["charts"]) == svgs >= 10
        assert {"calibration curve", "score distribution by tier", "key factors"} <= set(
            layout["charts"]
        )
        assert layout["topLeadRows"] == 20
        assert layout["overflowing"] == [], (width, layout["overflowing"])
        assert layout["scrollWidth"] <= layout["width"]
    shot = ROOT / "reports" / "leadscore_report.png"
    shot.parent.mkdir(exist_ok=True)
    shot.unlink(missing_ok=True)
    subprocess.run(
        [browser, *HEADLESS, f"--user-data-dir={tmp_path / 'profile-shot'}",
         f"--screenshot={shot}", "--window-size=1400,2400", page.as_uri()],
        capture_output=True,
        timeout=120,
        check=True,
    )
    # a blank page compresses to a few kB; charts and tables take far more
    assert shot.stat().st_size > 100_000
