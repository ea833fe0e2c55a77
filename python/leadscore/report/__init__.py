"""``leadscore report``: one self-contained HTML page on how the lead scores are doing.

It reads the warehouse (read-only) and the scoring model's metadata.json, and writes a page
with no external resources (charts are inline SVG): the model's test metrics beside their
baselines, calibration with Wilson intervals, lift, the model against the rule-based score, the
key factors, the open leads by tier, actual against expected conversions, trends over builds,
drift per feature (PSI), segments, the backtest, rejected input rows, champion against
challenger, and the top open leads with their context and reasons. Until outcomes mature, the
calibration, lift and segment sections show the model's test fold, labelled as such.

Three modules: ``data`` loads (``load_report``), ``charts`` draws inline SVG (pure functions,
numbers in and SVG out), ``page`` renders the HTML (``render_report``) and is the command.
Loading and rendering are separate, so the page can be rendered from hand-made data.
"""

from leadscore.report.data import ReportData, ReportError, load_report
from leadscore.report.page import SECTIONS, main, render_report

__all__ = ["SECTIONS", "ReportData", "ReportError", "load_report", "main", "render_report"]
