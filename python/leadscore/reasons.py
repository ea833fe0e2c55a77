"""Reasons a sales rep can read: each model factor as a short sentence in plain words.

A sentence is generated from what a feature is (its name follows the grammar of
``macros/lead_features.sql``: a count over a window, days since something, a share, a flag, a
category) and its value, so every feature gets one, including features the grammar only
partly knows. ``seeds/reason_templates.csv`` overrides the generated sentence for a feature
(``{value}`` is replaced by the humanised value). Rules the sentences keep:

* a missing value is said in words ("No high-intent action yet"), never as ``missing``;
* numbers are rounded for people (whole days, one decimal for paces, percentages), with
  plurals that agree ("1 webinar action", "3 webinar actions");
* a factor that holds the score back while its plain reading sounds good ("4 pricing page
  views" lowering the score) says why ("... fewer than leads that convert usually have"), and
  a factor whose sentence would contradict its push is left out;
* one sentence per fact: two factors that read the same are told once.

``explain(...)`` turns one lead's contributions into its top factors; ``explain_batch`` does
it for the column batches the ``leadscore_explain`` SQL function receives.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

__all__ = ["Factor", "describe", "explain", "explain_batch", "parse_templates", "reason"]

TOP_UP = 5
TOP_DOWN = 5

_INTENT_NOUNS = {
    "high_intent": ("high-intent action (pricing, demo, contact)",
                    "high-intent actions (pricing, demo, contact)"),
    "content": ("content interaction", "content interactions"),
    "engagement": ("engagement action", "engagement actions"),
    "negative": ("negative signal (unsubscribe, careers page)",
                 "negative signals (unsubscribe, careers pages)"),
}
_CHANNEL_NOUNS = {
    "web": ("website action", "website actions"),
    "sales": ("sales call or meeting", "sales calls or meetings"),
    "content": ("content download", "content downloads"),
    "form": ("form submission", "form submissions"),
}


@dataclass(frozen=True)
class Spec:
    """How a feature reads: its kind, its words, and whether more of it sounds good."""

    kind: str  # count, days, hours, share, pace, flag, category, number
    text: str  # the sentence, with {n} (the number), {noun} and {window}
    missing: str  # the sentence when the value is missing (or zero, for counts)
    singular: str = ""
    plural: str = ""
    good_when_high: bool | None = None  # None: neutral (an attribute, the lead's age)
    zero: str = ""  # the sentence for a count of zero, when it differs from ``missing``


def _window(days: str) -> str:
    return "in the last 7 days" if days == "7" else f"in the last {days} days"


def _words(name: str) -> str:
    return name.replace("_", " ").strip()


def _intent(intent: str) -> tuple[str, str]:
    return _INTENT_NOUNS.get(intent, (f"{_words(intent)} signal", f"{_words(intent)} signals"))


@lru_cache(maxsize=4096)
def describe(feature: str) -> Spec:
    """How ``feature`` reads, from its name (the grammar of the feature macro)."""
    match = re.fullmatch(r"(.+)_(\d+)d", feature)
    if match:
        stem, days = match.groups()
        window = _window(days)
        if stem == "activities":
            return Spec("count", "{n} {noun} " + window, "No activity " + window,
                        "action", "actions", True)
        if stem.endswith("_actions"):
            channel = stem[: -len("_actions")]
            one, many = _CHANNEL_NOUNS.get(
                channel, (f"{_words(channel)} action", f"{_words(channel)} actions")
            )
            return Spec("count", "{n} {noun} " + window, f"No {many} " + window, one, many, True)
        if stem.endswith("_signals"):
            intent = stem[: -len("_signals")]
            one, many = _intent(intent)
            return Spec("count", "{n} {noun} " + window, f"No {many} " + window,
                        one, many, intent != "negative")
        if stem == "sessions":
            return Spec("count", "{n} {noun} " + window, "No visits " + window,
                        "visit", "visits", True)
        if stem == "pricing_views":
            return Spec("count", "Viewed pricing {n} {noun} " + window,
                        "No pricing page view " + window, "time", "times", True)
        if stem == "active_days":
            return Spec("count", "Active on {n} {noun} " + window, "No active day " + window,
                        "day", "days", True)
        if stem == "emails_sent":
            return Spec("count", "{n} {noun} sent to them " + window, "No email sent " + window,
                        "email", "emails", None)
        if stem.startswith("email_open_rate"):
            return Spec("share", "Opened {n} of emails " + window, "No email sent " + window,
                        good_when_high=True)
        if stem.startswith("email_click_rate"):
            return Spec("share", "Clicked {n} of emails " + window, "No email sent " + window,
                        good_when_high=True)
        if stem == "actions_per_active_day":
            return Spec("pace", "{n} actions per active day " + window,
                        "No active day " + window, good_when_high=True)
        return Spec("number", _words(stem).capitalize() + " " + window + ": {n}",
                    "No " + _words(stem) + " " + window)
    fixed = _FIXED.get(feature)
    if fixed is not None:
        return fixed
    match = re.fullmatch(r"days_since_last_(.+)", feature)
    if match:
        one, _ = _intent(match.group(1))
        return Spec("days", f"Last {one} {{n}} ago", f"No {one} yet", good_when_high=False)
    if feature.startswith("has_"):
        return Spec("flag", _words(feature[4:]).capitalize(), "Not " + _words(feature[4:]),
                    good_when_high=True)
    return Spec("number", _words(feature).capitalize() + ": {n}",
                _words(feature).capitalize() + " not known")


_FIXED: dict[str, Spec] = {
    "days_since_created": Spec("days", "Lead created {n} ago", "Creation date not known"),
    "activities_total": Spec("count", "{n} {noun} in total", "No activity yet",
                             "action", "actions", True),
    "engagement_score_decayed": Spec("pace", "Engagement score {n} (recent actions count most)",
                                     "No engagement yet", good_when_high=True),
    "email_open_rate_total": Spec("share", "Opened {n} of all emails", "No email sent yet",
                                  good_when_high=True),
    "email_click_rate_total": Spec("share", "Clicked {n} of all emails", "No email sent yet",
                                   good_when_high=True),
    "has_unsubscribed": Spec("flag", "Unsubscribed from emails", "Still subscribed to emails",
                             good_when_high=False),
    "days_since_last_activity": Spec("days", "Last active {n} ago", "No activity yet",
                                     good_when_high=False),
    "days_since_last_web_visit": Spec("days", "Last website visit {n} ago",
                                      "No website visit yet", good_when_high=False),
    "days_since_first_touch": Spec("days", "First touch {n} ago", "No touch yet"),
    "days_since_first_high_intent": Spec("days", "First high-intent action {n} ago",
                                         "No high-intent action yet"),
    "activity_trend_7d_vs_30d": Spec("pace", "Last 7 days at {n}x the 30-day pace",
                                     "No activity in the last 30 days", good_when_high=True),
    "sessions_total": Spec("count", "{n} {noun} in total", "No visits yet",
                           "visit", "visits", True),
    "sessions_per_30d_lifetime": Spec("pace", "{n} visits a month since first seen",
                                      "No visits yet", good_when_high=True),
    "activity_lift_30d_vs_lifetime": Spec("pace", "Last 30 days at {n}x their usual pace",
                                          "No activity yet", good_when_high=True),
    "actions_per_session": Spec("pace", "{n} actions per visit", "No visits yet",
                                good_when_high=True),
    "max_sessions_in_burst_window": Spec("count", "Up to {n} {noun} within 48 hours",
                                         "No visits yet", "visit", "visits", True),
    "has_session_burst": Spec("flag", "Several visits within 48 hours",
                              "No burst of visits within 48 hours", good_when_high=True),
    "pricing_views_total": Spec("count", "Viewed pricing {n} {noun}", "Never viewed pricing",
                                "time", "times", True),
    "has_pricing_after_download": Spec("flag", "Viewed pricing after downloading content",
                                       "No pricing view after a download", good_when_high=True),
    "has_pricing_before_download": Spec("flag", "Downloaded content after viewing pricing",
                                        "No download after a pricing view",
                                        good_when_high=True),
    "steps_to_first_high_intent": Spec("count", "{n} {noun} before the first high-intent one",
                                       "No high-intent action yet", "action", "actions",
                                       zero="The first action was a high-intent one"),
    "hours_to_first_high_intent": Spec("hours", "First high-intent action {n} after first touch",
                                       "No high-intent action yet"),
    "unique_channels": Spec("count", "Active on {n} {noun}", "No activity yet",
                            "channel", "channels", True),
    "touchpoint_span_days": Spec("days", "Touchpoints spread over {n}", "No activity yet"),
    "first_touch_channel": Spec("category", "First touch via {n}", "No touch yet"),
    "last_touch_channel": Spec("category", "Latest touch via {n}", "No touch yet"),
    "weekend_share": Spec("share", "{n} of activity at weekends", "No activity yet"),
    "business_hours_share": Spec("share", "{n} of activity in business hours",
                                 "No activity yet"),
}


def _plural(n: float, one: str, many: str) -> str:
    return one if n == 1 else many


def _number(value: float) -> str:
    if not math.isfinite(value):
        return "unbounded" if value > 0 else "negative unbounded"
    if abs(value) >= 1e6:
        return f"{value:,.3g}"
    if value == round(value):
        return f"{round(value):,}"
    return f"{value:,.1f}" if abs(value) < 100 else f"{round(value):,}"


def _span(value: float, unit: str) -> str:
    """A duration in whole units, or a smaller unit when under one."""
    if unit == "days":
        if value < 1:
            hours = round(value * 24)
            return "under an hour" if hours < 1 else f"{hours} {_plural(hours, 'hour', 'hours')}"
        days = round(value)
        return f"{days:,} {_plural(days, 'day', 'days')}"
    if value < 1:
        return "under an hour"
    if value >= 48:
        return _span(value / 24, "days")
    hours = round(value)
    return f"{hours} {_plural(hours, 'hour', 'hours')}"


def _category(value: str) -> str:
    return value.replace("_", " ") if re.fullmatch(r"[a-z0-9_]+", value) else value


def humanise(feature: str, value: Any) -> str | None:
    """The value as a person reads it (None when missing)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    spec = describe(feature)
    if spec.kind == "category" or isinstance(value, str):
        return _category(str(value))
    number = float(value)
    if spec.kind == "days":
        return _span(number, "days")
    if spec.kind == "hours":
        return _span(number, "hours")
    if spec.kind == "share":
        return f"{100 * number:.0f}%"
    if spec.kind == "pace":
        return f"{number:.1f}" if math.isfinite(number) else _number(number)
    return _number(number)


def reason(
    feature: str,
    value: Any,
    contribution: float,
    templates: Mapping[str, str] | None = None,
    is_attribute: bool = False,
) -> str | None:
    """One factor as a sentence, or None when its sentence would contradict its push."""
    spec = describe(feature)
    shown = humanise(feature, value)
    up = contribution > 0
    template = None
    if templates:
        template = templates.get(f"{feature}|{'positive' if up else 'negative'}") or templates.get(
            f"{feature}|any"
        )
    if is_attribute and shown is None:
        return _words(feature).capitalize() + " not given"
    if template is None and is_attribute:
        template = _words(feature).capitalize() + ": {value}"
    if template is not None and shown is not None:
        return template.replace("{value}", shown)
    if shown is None:
        if spec.kind == "flag":
            return None
        return spec.missing if _consistent(spec, 0.0, up) else None
    number = 0.0 if isinstance(value, str) else float(value)
    if spec.kind == "flag":
        present = number != 0
        text = spec.text if present else spec.missing
        return text if _consistent(spec, 1.0 if present else 0.0, up) else None
    if spec.kind == "count" and number == 0:
        return (spec.zero or spec.missing) if _consistent(spec, 0.0, up) else None
    noun = _plural(number, spec.singular, spec.plural)
    text = spec.text.replace("{n}", shown).replace("{noun}", noun)
    if _consistent(spec, number, up):
        return text
    if spec.good_when_high and not up and spec.kind in ("count", "share", "pace"):
        return text + ", fewer than leads that convert usually have" if spec.kind == "count" \
            else text + ", lower than for leads that convert"
    return None


def _consistent(spec: Spec, number: float, up: bool) -> bool:
    """Does the plain reading of the value agree with the direction of its push?"""
    if spec.good_when_high is None or spec.kind == "days":
        return True
    sounds_good = (number > 0) == spec.good_when_high
    return sounds_good == up


@dataclass(frozen=True)
class Factor:
    feature: str
    value: Any
    contribution: float
    reason: str

    def as_dict(self) -> dict[str, Any]:
        value = self.value
        if isinstance(value, float):
            value = None if math.isnan(value) else round(value, 6)
        return {
            "feature": self.feature,
            "value": value,
            "contribution": round(self.contribution, 4),
            "reason": self.reason,
        }


def explain(
    names: Sequence[str],
    values: Sequence[Any],
    contributions: Sequence[float],
    templates: Mapping[str, str] | None = None,
    attributes: frozenset[str] = frozenset(),
) -> list[Factor]:
    """The strongest pushes up (up to 5) then down (up to 5), strongest up first.

    ``contributions`` holds one value per feature (a trailing base value is ignored). Ties
    are broken by feature name; factors whose sentence is left out or repeats an earlier one
    make room for the next strongest.
    """
    order = sorted(
        (j for j in range(len(names)) if contributions[j] != 0),
        key=lambda j: (-abs(contributions[j]), names[j]),
    )
    ups: list[Factor] = []
    downs: list[Factor] = []
    said: set[str] = set()
    for j in order:
        c = float(contributions[j])
        bucket = ups if c > 0 else downs
        if len(bucket) >= (TOP_UP if c > 0 else TOP_DOWN):
            continue
        text = reason(names[j], values[j], c, templates, names[j] in attributes)
        if text is None or text in said:
            continue
        said.add(text)
        bucket.append(Factor(names[j], values[j], c, text))
        if len(ups) >= TOP_UP and len(downs) >= TOP_DOWN:
            break
    downs.reverse()  # strongest push down last
    return ups + downs


@lru_cache(maxsize=16)
def parse_templates(text: str | None) -> dict[str, str]:
    """``feature|direction -> template`` from a JSON list of {feature, direction, template}."""
    if not text:
        return {}
    rows = json.loads(text)
    out: dict[str, str] = {}
    for row in sorted(rows, key=lambda r: (r["feature"], r["direction"], r["template"])):
        out.setdefault(f"{row['feature']}|{row['direction']}", row["template"])
    return out


def explain_batch(
    names: Sequence[str],
    kinds: Sequence[str],
    vectors: Sequence[Sequence[float | None] | None],
    categories: Sequence[Sequence[str | None] | None],
    contributions: Sequence[Sequence[float] | None],
    templates: Mapping[str, str] | None = None,
    attributes: frozenset[str] = frozenset(),
) -> tuple[list[str | None], list[str | None]]:
    """``top_factors`` (JSON) and ``top_reasons`` (the pushes up, joined) per row."""
    factors_out: list[str | None] = []
    reasons_out: list[str | None] = []
    for vector, cats, contrib in zip(vectors, categories, contributions, strict=True):
        if vector is None or contrib is None:
            factors_out.append(None)
            reasons_out.append(None)
            continue
        values = [
            (cats[j] if cats is not None else None) if kinds[j] == "categorical" else vector[j]
            for j in range(len(names))
        ]
        factors = explain(names, values, contrib, templates, attributes)
        factors_out.append(json.dumps([f.as_dict() for f in factors]))
        ups = [f.reason for f in factors if f.contribution > 0]
        reasons_out.append("; ".join(ups) or None)
    return factors_out, reasons_out
