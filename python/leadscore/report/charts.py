"""Inline SVG charts of the report: pure functions, numbers in and SVG text out."""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

__all__ = [
    "bars_svg",
    "calibration_svg",
    "gain_svg",
    "grouped_bars_svg",
    "hbars_svg",
    "psi_bars_svg",
    "stacked_bars_svg",
    "tier_panels_svg",
    "wilson_interval",
]

# distinct hues, not shades of one: tiers must be told apart at a glance
TIER_COLOURS = {"A": "#1b7f3b", "B": "#2563eb", "C": "#e0a526", "D": "#9ca3af"}
SERIES_COLOURS = ("#2563eb", "#d9480f", "#6b7280", "#7c3aed")
MIN_BIN_LEADS = 20  # a calibration bin with fewer leads is too noisy to join the curve
STATUS_COLOURS = {"stable": "#5aa469", "moderate shift": "#e0a526", "large shift": "#c92a2a"}

def _e(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _fmt(value: Any, digits: int = 3) -> str:
    """A number for people: thousands separated, no "-0.000" (a rounded zero has no sign)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        text = f"{value:,.{digits}f}"
        return text[1:] if text.startswith("-") and float(text[1:].replace(",", "")) == 0 else text
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def wilson_interval(successes: float, n: int, z: float = 1.96) -> tuple[float, float]:
    """The Wilson score interval (95% by default) of a rate seen as successes out of n."""
    if n <= 0:
        return 0.0, 1.0
    rate = successes / n
    centre = (rate + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(rate * (1 - rate) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def _tick(value: float) -> str:
    """An axis label: whole numbers without decimals, small ones with up to two."""
    if abs(value - round(value)) < 1e-9:
        return f"{round(value):,}"
    return f"{value:.2f}".rstrip("0")


def _nice_max(value: float, step: float) -> float:
    """The smallest multiple of step at or above value (at least one step)."""
    return max(step, math.ceil(value / step - 1e-9) * step)


def _nice_top(value: float) -> float:
    """An axis maximum at or above value whose five ticks are round (1, 2, 2.5 or 5 x 10^k)."""
    if value <= 0:
        return 1.0
    raw = value / 5
    magnitude = 10 ** math.floor(math.log10(raw))
    tick = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw - 1e-12)
    return tick * 5


@dataclass(frozen=True)
class Frame:
    """A chart's plotting area inside its SVG canvas."""

    width: int = 440
    height: int = 300
    left: int = 52
    right: int = 16
    top: int = 16
    bottom: int = 44

    @property
    def inner_width(self) -> int:
        return self.width - self.left - self.right

    @property
    def inner_height(self) -> int:
        return self.height - self.top - self.bottom

    def x(self, value: float, maximum: float) -> float:
        return self.left + self.inner_width * (value / maximum if maximum else 0)

    def y(self, value: float, maximum: float) -> float:
        return self.top + self.inner_height * (1 - (value / maximum if maximum else 0))


def _svg(frame: Frame, body: list[str], label: str) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="{_e(label)}" '
        f'width="{frame.width}" height="{frame.height}" viewBox="0 0 {frame.width} '
        f'{frame.height}" font-family="sans-serif" font-size="11">' + "".join(body) + "</svg>"
    )


def _baseline(frame: Frame) -> str:
    base = frame.height - frame.bottom
    return (
        f'<line x1="{frame.left}" x2="{frame.width - frame.right}" y1="{base}" y2="{base}" '
        f'stroke="#6b7280"/>'
    )


def _x_title(frame: Frame, label: str) -> str:
    return (
        f'<text x="{frame.left + frame.inner_width / 2:.1f}" y="{frame.height - 8}" '
        f'text-anchor="middle">{_e(label)}</text>'
    )


def _y_title(frame: Frame, label: str) -> str:
    return (
        f'<text transform="translate(14 {frame.top + frame.inner_height / 2:.1f}) rotate(-90)" '
        f'text-anchor="middle">{_e(label)}</text>'
    )


def _x_grid(frame: Frame, top: float) -> list[str]:
    """Vertical grid lines with their values below, five ticks (for horizontal bars)."""
    parts = []
    for i in range(6):
        v = top * i / 5
        x = frame.x(v, top)
        parts.append(
            f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{frame.top}" y2="{frame.height - frame.bottom}" '
            f'stroke="#e5e7eb"/><text x="{x:.1f}" y="{frame.height - frame.bottom + 14}" '
            f'text-anchor="middle">{_tick(v)}</text>'
        )
    return parts


def _reference_line(frame: Frame, reference: float, top: float) -> str:
    y = frame.y(reference, top)
    return (
        f'<line x1="{frame.left}" x2="{frame.width - frame.right}" y1="{y:.1f}" '
        f'y2="{y:.1f}" stroke="#c92a2a" stroke-dasharray="4 4"/>'
    )


def _axes(frame: Frame, x_max: float, y_max: float, x_label: str, y_label: str) -> list[str]:
    """Axis lines, five ticks a side with grid lines, and the two axis titles."""
    parts = []
    for i in range(6):
        yv = y_max * i / 5
        y = frame.y(yv, y_max)
        parts.append(
            f'<line x1="{frame.left}" x2="{frame.width - frame.right}" y1="{y:.1f}" '
            f'y2="{y:.1f}" stroke="#e5e7eb"/><text x="{frame.left - 6}" y="{y + 4:.1f}" '
            f'text-anchor="end">{_tick(yv)}</text>'
        )
    for i in range(6):
        xv = x_max * i / 5
        x = frame.x(xv, x_max)
        parts.append(
            f'<text x="{x:.1f}" y="{frame.height - frame.bottom + 16}" '
            f'text-anchor="middle">{_tick(xv)}</text>'
        )
    base = frame.height - frame.bottom
    parts.append(
        _baseline(frame)
        + f'<line x1="{frame.left}" x2="{frame.left}" y1="{frame.top}" y2="{base}" '
        f'stroke="#6b7280"/>' + _x_title(frame, x_label) + _y_title(frame, y_label)
    )
    return parts


def _legend(frame: Frame, entries: Sequence[tuple[str, str]]) -> list[str]:
    parts = []
    for i, (name, colour) in enumerate(entries):
        y = frame.top + 6 + 16 * i
        parts.append(
            f'<rect x="{frame.left + 10}" y="{y}" width="10" height="10" fill="{colour}"/>'
            f'<text x="{frame.left + 26}" y="{y + 9}">{_e(name)}</text>'
        )
    return parts


def calibration_svg(series: Sequence[tuple[str, Sequence[tuple[float, float, int]]]]) -> str:
    """Observed rate against mean predicted probability, one line per series of
    (mean_predicted, observed_rate, n) points (dot area grows with n), each with its 95%
    Wilson interval as a vertical bar, and the diagonal."""
    frame = Frame(width=440, height=360)
    values = [
        max(p, wilson_interval(o * n, n)[1]) for _, points in series for p, o, n in points
    ] or [0.1]
    top = min(1.0, _nice_max(max(values), 0.1))
    body = _axes(frame, top, top, "mean predicted probability", "observed conversion rate")
    body.append(
        f'<line x1="{frame.x(0, top)}" y1="{frame.y(0, top)}" x2="{frame.x(top, top)}" '
        f'y2="{frame.y(top, top)}" stroke="#9ca3af" stroke-dasharray="4 4"/>'
    )
    largest = max([n for _, points in series for _, _, n in points] or [1])
    for (name, points), colour in zip(series, SERIES_COLOURS, strict=False):
        coords = [(frame.x(p, top), frame.y(min(o, top), top), n) for p, o, n in points]
        # bins under MIN_BIN_LEADS are drawn as hollow dots and left out of the line
        solid = [(x, y) for x, y, n in coords if n >= MIN_BIN_LEADS]
        if len(solid) > 1:
            path = " ".join(f"{x:.1f},{y:.1f}" for x, y in solid)
            body.append(f'<polyline points="{path}" fill="none" stroke="{colour}"/>')
        for (_, o, n), (x, _, _) in zip(points, coords, strict=True):
            low, high = wilson_interval(o * n, n)
            body.append(
                f'<line class="interval" x1="{x:.1f}" x2="{x:.1f}" '
                f'y1="{frame.y(min(low, top), top):.1f}" y2="{frame.y(min(high, top), top):.1f}" '
                f'stroke="{colour}" stroke-width="1.5"><title>{_e(name)}: observed '
                f"{o:.1%}, 95% interval {low:.1%} to {high:.1%} ({n} leads)</title></line>"
            )
        for x, y, n in coords:
            radius = 2.5 + 6 * math.sqrt(n / largest)
            body.append(
                f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{radius:.1f}" '
                + (f'fill="{colour}" fill-opacity="0.6"' if n >= MIN_BIN_LEADS
                   else f'fill="white" stroke="{colour}"')
                + f"><title>{_e(name)}: {n} leads</title></circle>"
            )
    body += _legend(
        frame, [(name, c) for (name, _), c in zip(series, SERIES_COLOURS, strict=False)]
    )
    return _svg(frame, body, "calibration curve")


def bars_svg(
    labels: Sequence[str],
    values: Sequence[float],
    x_label: str,
    y_label: str,
    reference: float | None = None,
    colour: str = SERIES_COLOURS[0],
) -> str:
    """Vertical bars with their values on top, and an optional dashed reference line."""
    frame = Frame()
    top = _nice_top(max([*values, reference or 0, 1e-9]) * 1.1)
    body = _axes(frame, 1, top, x_label, y_label)[:6]  # horizontal grid only; labels below
    base = frame.height - frame.bottom
    body.append(_baseline(frame) + _x_title(frame, x_label) + _y_title(frame, y_label))
    slot = frame.inner_width / max(1, len(values))
    for i, (label, value) in enumerate(zip(labels, values, strict=True)):
        x = frame.left + i * slot + slot * 0.15
        y = frame.y(value, top)
        body.append(
            f'<rect x="{x:.1f}" y="{y:.1f}" width="{slot * 0.7:.1f}" height="{base - y:.1f}" '
            f'fill="{colour}"><title>{_e(label)}: {value:.3g}</title></rect>'
            f'<text x="{x + slot * 0.35:.1f}" y="{y - 3:.1f}" text-anchor="middle">'
            f"{value:.2g}</text>"
            f'<text x="{x + slot * 0.35:.1f}" y="{base + 14}" text-anchor="middle">'
            f"{_e(label)}</text>"
        )
    if reference is not None:
        body.append(_reference_line(frame, reference, top))
    return _svg(frame, body, y_label)


def gain_svg(points: Sequence[tuple[float, float]]) -> str:
    """Cumulative gain: share of conversions found against share of leads called, with the
    diagonal a random order would give."""
    frame = Frame()
    body = _axes(
        frame, 1, 1, "share of leads called (highest scores first)", "share of conversions"
    )
    body.append(
        f'<line x1="{frame.x(0, 1)}" y1="{frame.y(0, 1)}" x2="{frame.x(1, 1)}" '
        f'y2="{frame.y(1, 1)}" stroke="#9ca3af" stroke-dasharray="4 4"/>'
    )
    path = " ".join(f"{frame.x(x, 1):.1f},{frame.y(y, 1):.1f}" for x, y in [(0, 0), *points])
    body.append(
        f'<polyline points="{path}" fill="none" stroke="{SERIES_COLOURS[0]}" stroke-width="2"/>'
    )
    return _svg(frame, body, "cumulative gain")


def tier_panels_svg(scores: pd.DataFrame, tiers: Sequence[str], bucket: int = 5) -> str:
    """Leads per score bucket (0-100), one panel per tier, each with its own y scale: a tier of
    a few hundred leads stays readable beside one of tens of thousands."""
    width, panel, gap = 640, 96, 18
    frame = Frame(width=width, height=panel * len(tiers) + gap * len(tiers) + 44, top=8)
    buckets = list(range(0, 100, bucket))
    slot = frame.inner_width / len(buckets)
    body = []
    for k, tier in enumerate(tiers):
        in_tier = scores.loc[scores["tier"] == tier, "score"].clip(0, 99) // bucket
        counts = [int((in_tier == b // bucket).sum()) for b in buckets]
        top = _nice_top(max(counts or [1]) * 1.05)
        y0 = frame.top + k * (panel + gap)
        base = y0 + panel
        colour = TIER_COLOURS.get(tier, "#6b7280")
        body.append(
            f'<text x="{frame.left}" y="{y0 + 10}" font-weight="bold" fill="{colour}">tier '
            f"{_e(tier)}: {len(in_tier):,} leads</text>"
            f'<line x1="{frame.left}" x2="{width - frame.right}" y1="{base}" y2="{base}" '
            f'stroke="#6b7280"/><text x="{frame.left - 6}" y="{y0 + 18}" text-anchor="end">'
            f"{_tick(top)}</text>"
            f'<text x="{frame.left - 6}" y="{base}" text-anchor="end">0</text>'
        )
        for i, (start, n) in enumerate(zip(buckets, counts, strict=True)):
            if not n:
                continue
            height = (panel - 14) * n / top
            body.append(
                f'<rect x="{frame.left + i * slot + 1:.1f}" y="{base - height:.1f}" '
                f'width="{slot - 2:.1f}" height="{height:.1f}" fill="{colour}"><title>score '
                f"{start}-{start + bucket - 1}, tier {_e(tier)}: {n:,} leads</title></rect>"
            )
    base = frame.height - frame.bottom
    for i in range(6):
        x = frame.x(100 * i / 5, 100)
        body.append(f'<text x="{x:.1f}" y="{base + 16}" text-anchor="middle">{20 * i}</text>')
    body.append(
        f'<text x="{frame.left + frame.inner_width / 2:.1f}" y="{frame.height - 8}" '
        'text-anchor="middle">score (each panel has its own scale of leads)</text>'
    )
    return _svg(frame, body, "score distribution by tier")


def hbars_svg(
    labels: Sequence[str], values: Sequence[float], x_label: str, aria: str, digits: int = 3
) -> str:
    """Horizontal bars, one per label, longest first as given, with their values."""
    row, left = 18, 250
    frame = Frame(width=680, height=30 + row * len(labels) + 30, left=left, top=10, bottom=40)
    top = _nice_top(max([*values, 1e-9]))
    body = _x_grid(frame, top)
    for i, (label, value) in enumerate(zip(labels, values, strict=True)):
        y = frame.top + i * row
        width = frame.x(value, top) - frame.left
        body.append(
            f'<text x="{left - 6}" y="{y + 12}" text-anchor="end">{_e(label)}</text>'
            f'<rect x="{left}" y="{y + 3}" width="{max(width, 0.5):.1f}" height="{row - 5}" '
            f'fill="{SERIES_COLOURS[0]}"><title>{_e(label)}: {value:.{digits}f}</title></rect>'
            f'<text x="{left + width + 4:.1f}" y="{y + 12}">{value:.{digits}f}</text>'
        )
    body.append(_x_title(frame, x_label))
    return _svg(frame, body, aria)


def grouped_bars_svg(
    groups: Sequence[str],
    series: Sequence[tuple[str, Sequence[float | None]]],
    y_label: str,
    aria: str,
    digits: int = 2,
    reference: float | None = None,
) -> str:
    """Bars side by side per group, one colour per series (None: not measured, no bar)."""
    frame = Frame(width=440, height=300, bottom=56)
    values = [v for _, vs in series for v in vs if v is not None]
    top = _nice_top(max([*values, reference or 0, 1e-9]) * 1.12)
    body = _axes(frame, 1, top, "", y_label)[:6]
    base = frame.height - frame.bottom
    body.append(_baseline(frame) + _y_title(frame, y_label))
    slot = frame.inner_width / max(1, len(groups))
    bar = slot * 0.8 / max(1, len(series))
    for g, group in enumerate(groups):
        x0 = frame.left + g * slot + slot * 0.1
        body.append(
            f'<text x="{x0 + slot * 0.4:.1f}" y="{base + 14}" text-anchor="middle">'
            f"{_e(group)}</text>"
        )
        for k, ((name, vs), colour) in enumerate(zip(series, SERIES_COLOURS, strict=False)):
            value = vs[g]
            if value is None:
                continue
            y = frame.y(value, top)
            x = x0 + k * bar
            body.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar - 2:.1f}" height="{base - y:.1f}" '
                f'fill="{colour}"><title>{_e(group)}, {_e(name)}: {value:,.{digits}f}</title>'
                f'</rect><text x="{x + bar / 2 - 1:.1f}" y="{y - 3:.1f}" text-anchor="middle" '
                f'font-size="10">{value:,.{digits}f}</text>'
            )
    if reference is not None:
        body.append(_reference_line(frame, reference, top))
    for k, ((name, vs), colour) in enumerate(zip(series, SERIES_COLOURS, strict=False)):
        if all(v is None for v in vs):
            continue
        x = frame.left + (k % 3) * 128
        y = frame.height - 22 + (k // 3) * 13
        body.append(
            f'<rect x="{x}" y="{y}" width="10" height="10" fill="{colour}"/>'
            f'<text x="{x + 14}" y="{y + 9}">{_e(name)}</text>'
        )
    return _svg(frame, body, aria)


def stacked_bars_svg(
    labels: Sequence[str], stacks: Sequence[tuple[str, Sequence[float]]], y_label: str, aria: str
) -> str:
    """One bar per label (a build), split into shares by stack (a tier), each bar summing to 1."""
    frame = Frame(width=440, height=300)
    body = _axes(frame, 1, 1, "", y_label)[:6]
    base = frame.height - frame.bottom
    slot = frame.inner_width / max(1, len(labels))
    step = max(1, math.ceil(len(labels) / 6))
    for i, label in enumerate(labels):
        total = sum(vs[i] for _, vs in stacks) or 1
        so_far = 0.0
        x = frame.left + i * slot + slot * 0.15
        for name, vs in stacks:
            share = vs[i] / total
            if share <= 0:
                continue
            y_top, y_bottom = frame.y(so_far + share, 1), frame.y(so_far, 1)
            body.append(
                f'<rect x="{x:.1f}" y="{y_top:.1f}" width="{slot * 0.7:.1f}" '
                f'height="{y_bottom - y_top:.1f}" fill="{TIER_COLOURS.get(name, "#6b7280")}">'
                f"<title>{_e(label)}, tier {_e(name)}: {share:.1%}</title></rect>"
            )
            so_far += share
        if i % step == 0:
            body.append(
                f'<text x="{x + slot * 0.35:.1f}" y="{base + 14}" text-anchor="middle">'
                f"{_e(label)}</text>"
            )
    body.append(_baseline(frame))
    for k, (name, _) in enumerate(stacks):
        x = frame.left + k * 60
        body.append(
            f'<rect x="{x}" y="{frame.height - 20}" width="10" height="10" '
            f'fill="{TIER_COLOURS.get(name, "#6b7280")}"/>'
            f'<text x="{x + 14}" y="{frame.height - 11}">tier {_e(name)}</text>'
        )
    return _svg(frame, body, aria)


def psi_bars_svg(
    features: Sequence[str],
    psi: Sequence[float],
    statuses: Sequence[str],
    warn: float,
    error: float,
) -> str:
    """Horizontal PSI bars per feature, coloured by drift status, with the warn and error lines."""
    row = 16
    left = 220
    frame = Frame(width=680, height=40 + row * len(features) + 30, left=left, top=24, bottom=40)
    top = _nice_top(max([*psi, error * 1.2]))
    body = _x_grid(frame, top)
    for i, (name, value, status) in enumerate(zip(features, psi, statuses, strict=True)):
        y = frame.top + i * row
        width = frame.x(value, top) - frame.left
        body.append(
            f'<text x="{left - 6}" y="{y + 11}" text-anchor="end">{_e(name)}</text>'
            f'<rect x="{left}" y="{y + 2}" width="{max(width, 0.5):.1f}" height="{row - 4}" '
            f'fill="{STATUS_COLOURS.get(status, "#6b7280")}"><title>{_e(name)}: PSI '
            f"{value:.3f} ({_e(status)})</title></rect>"
            f'<text x="{left + width + 4:.1f}" y="{y + 11}">{value:.3f}</text>'
        )
    for value, label in ((warn, "warn"), (error, "error")):
        x = frame.x(value, top)
        body.append(
            f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{frame.top - 8}" '
            f'y2="{frame.height - frame.bottom}" stroke="#374151" stroke-dasharray="4 3"/>'
            f'<text x="{x + 3:.1f}" y="{frame.top - 10}">{label} {value:g}</text>'
        )
    body.append(_x_title(frame, "population stability index"))
    return _svg(frame, body, "drift per feature")
