"""``leadscore report``: one self-contained HTML page on how the lead scores are doing.

It reads the warehouse (read-only) and the scoring model's metadata.json, and writes a page
with no external resources (charts are inline SVG): the model and its test metrics, the
calibration curve (test fold at training and matured outcomes), lift and cumulative gain,
the score distribution by tier, drift per feature (PSI), the per-segment check, the backtest
by tier, champion against challenger, and the top leads with their reasons.

Three modules: ``data`` loads (``load_report``), ``charts`` draws inline SVG (pure functions,
numbers in and SVG out), ``page`` renders the HTML (``render_report``) and is the command.
Loading and rendering are separate, so the page can be rendered from hand-made data.
"""

from leadscore.report.data import ReportData, ReportError, load_report
from leadscore.report.page import SECTIONS, main, render_report

__all__ = ["SECTIONS", "ReportData", "ReportError", "load_report", "main", "render_report"]
