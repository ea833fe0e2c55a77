"""Reasons are sentences a sales rep can read, for every feature, in every state."""

from __future__ import annotations

import json
import math
import re

import pytest

from leadscore.reasons import describe, explain, reason

FEATURES = [
    "job_title", "employee_count", "days_since_created", "activities_30d", "web_actions_90d",
    "webinar_actions_7d", "high_intent_signals_90d", "negative_signals_30d",
    "email_open_rate_90d", "email_click_rate_total", "has_unsubscribed",
    "days_since_last_activity", "days_since_last_high_intent", "days_since_first_touch",
    "active_days_30d", "actions_per_active_day_30d", "activity_trend_7d_vs_30d",
    "sessions_7d", "sessions_per_30d_lifetime", "activity_lift_30d_vs_lifetime",
    "max_sessions_in_burst_window", "has_session_burst", "pricing_views_total",
    "has_pricing_after_download", "steps_to_first_high_intent", "hours_to_first_high_intent",
    "unique_channels", "touchpoint_span_days", "first_touch_channel", "weekend_share",
    "some_future_feature_14d", "brand_new_score",
]


def _is_raw(text: str, feature: str) -> bool:
    return feature in text or "=" in text or re.search(r"\bmissing\b", text) is not None


@pytest.mark.parametrize("feature", FEATURES)
@pytest.mark.parametrize("value", [None, 0, 1, 3.4567, 266.333, float("nan")])
@pytest.mark.parametrize("contribution", [0.3, -0.3])
def test_every_feature_reads_as_words_in_every_state(feature, value, contribution):
    if describe(feature).kind == "category" or feature == "job_title":
        value = None if value is None else "organic_search"
    text = reason(feature, value, contribution)
    if text is None:
        return  # left out: its plain reading would contradict its push
    assert not _is_raw(text, feature), text
    assert "_" not in text, text
    assert not re.search(r"\d\.\d{2,}", text), f"unrounded number in {text!r}"


def test_plurals_agree_with_the_count():
    assert reason("webinar_actions_30d", 1, 0.2) == "1 webinar action in the last 30 days"
    assert reason("webinar_actions_30d", 3, 0.2) == "3 webinar actions in the last 30 days"


def test_missing_values_are_said_in_words():
    assert reason("days_since_last_high_intent", None, -0.4) == (
        "No high-intent action (pricing, demo, contact) yet"
    )
    assert reason("first_touch_channel", None, -0.1) == "No touch yet"


def test_days_are_whole_days_and_hours_under_a_day():
    assert reason("days_since_last_activity", 266.33, -0.2) == "Last active 266 days ago"
    assert reason("days_since_last_activity", 0.25, 0.2) == "Last active 6 hours ago"


def test_a_good_signal_holding_the_score_back_says_why():
    text = reason("high_intent_signals_90d", 73, -0.2)
    assert text is not None and text.startswith("73 high-intent actions")
    assert "fewer than leads that convert" in text
    # a pleasant-sounding flag that lowers the score is left out rather than contradicted
    assert reason("has_session_burst", 1, -0.2) is None


def test_templates_override_and_humanise_the_value():
    templates = {"lead_source|any": "Came from {value}"}
    assert reason("lead_source", "paid_search", 0.1, templates) == "Came from paid search"


def test_explain_keeps_the_strongest_and_says_each_fact_once():
    names = ["activities_30d", "activities_90d", "days_since_created", "job_title"]
    values = [0, 0, 10.2, "VP"]
    # activities_30d = 0 and activities_90d = 0 both lower the score: two different sentences
    factors = explain(names, values, [-0.5, -0.4, 0.2, 0.3, 9.9][:4])
    assert [f.feature for f in factors] == ["job_title", "days_since_created", "activities_90d",
                                           "activities_30d"]
    assert factors[0].reason == "Job title: VP"
    same = explain(["sessions_total", "sessions_total"], [0, 0], [-0.2, -0.1])
    assert len(same) == 1


def test_every_reason_of_a_built_demo_reads_as_words(scored_workspace):
    rows = scored_workspace.sql("select top_factors, top_reasons from lead_scores")
    assert rows
    features = {
        r[0] for r in scored_workspace.sql(
            "select column_name from information_schema.columns "
            "where table_name = 'lead_features'"
        )
    }
    seen = 0
    for top_factors, top_reasons in rows:
        factors = json.loads(top_factors) if isinstance(top_factors, str) else top_factors
        for factor in factors:
            text = factor["reason"]
            seen += 1
            assert "=" not in text and not re.search(r"\bmissing\b", text), text
            assert not any(name in text for name in features if "_" in name), text
            assert not re.search(r"\d\.\d{2,}", text), text
            value = factor["value"]
            assert value is None or isinstance(value, str) or math.isfinite(value)
        if top_reasons:
            assert "=" not in top_reasons
    assert seen > len(rows)  # most leads have several factors
