{#- The one definition of every model feature.

    leadscore_features(spine, timeline) aggregates, for each (lead_id, as_of) row of `spine`,
    only the timeline events with occurred_at < as_of. lead_features calls it with one as_of,
    lead_training_set with a series of past cutoffs, so scoring and training features can
    never diverge. The spine carries created_at and the lead attributes.

    Feature families: fit (attributes, lead age), engagement (counts by channel and intent over
    var('windows_days'), weighted engagement score, email open/click rates), recency/frequency
    (days since last activity overall and per intent, active days, actions per active day,
    7-day vs 30-day trend), sequence (sessions, pricing before/after a download, session bursts,
    steps and hours from first touch to the first high-intent action, unique channels,
    touchpoint span, first/last touch channel, weekend and business-hour shares). -#}

{% macro leadscore_days_between(earlier, later) -%}
    (epoch({{ later }}) - epoch({{ earlier }})) / 86400.0
{%- endmacro %}

{% macro leadscore_features(spine, timeline) %}
{%- set windows = var('windows_days') -%}
{%- set half_life = var('engagement_half_life_days') -%}
with past_events as (
    -- the point-in-time rule: only what happened strictly before the cutoff
    select
        spine.lead_id,
        spine.as_of,
        timeline.*  exclude (lead_id),
        {{ leadscore_days_between('timeline.occurred_at', 'spine.as_of') }} as age_days,
    from {{ spine }} as spine
    inner join {{ timeline }} as timeline
        on
            spine.lead_id = timeline.lead_id
            and timeline.occurred_at < spine.as_of
),

behaviour as (
    select
        lead_id,
        as_of,
        -- engagement: activity counts by window, channel and intent
        {% for days in windows -%}
        count(*) filter (where is_activity and age_days <= {{ days }}) as activities_{{ days }}d,
        {% for channel in leadscore_channels() -%}
        count(*) filter (
            where is_activity and channel = {{ leadscore_sql_string(channel) }} and age_days <= {{ days }}
        ) as {{ leadscore_ident(leadscore_slug(channel) ~ '_actions_' ~ days ~ 'd') }},
        {% endfor -%}
        {% for intent in leadscore_intents() -%}
        count(*) filter (
            where intent_category = {{ leadscore_sql_string(intent) }} and age_days <= {{ days }}
        ) as {{ leadscore_ident(leadscore_slug(intent) ~ '_signals_' ~ days ~ 'd') }},
        {% endfor -%}
        {% endfor -%}
        count(*) filter (where is_activity) as activities_total,
        coalesce(
            sum(intent_weight * pow(0.5, age_days / {{ half_life }})) filter (where is_activity), 0
        ) as engagement_score_decayed,
        count(*) filter (where role = 'email_sent' and age_days <= 90) as emails_sent_90d,
        count(*) filter (where role = 'email_open' and age_days <= 90)
        / nullif(count(*) filter (where role = 'email_sent' and age_days <= 90), 0)
            as email_open_rate_90d,
        count(*) filter (where role = 'email_click' and age_days <= 90)
        / nullif(count(*) filter (where role = 'email_sent' and age_days <= 90), 0)
            as email_click_rate_90d,
        count(*) filter (where role = 'email_open')
        / nullif(count(*) filter (where role = 'email_sent'), 0) as email_open_rate_total,
        count(*) filter (where role = 'email_click')
        / nullif(count(*) filter (where role = 'email_sent'), 0) as email_click_rate_total,
        count(*) filter (where role = 'unsubscribe') > 0 as has_unsubscribed,
        -- recency and frequency
        min(age_days) filter (where is_activity) as days_since_last_activity,
        {% for intent in leadscore_intents() -%}
        min(age_days) filter (where intent_category = {{ leadscore_sql_string(intent) }})
            as {{ leadscore_ident('days_since_last_' ~ leadscore_slug(intent)) }},
        {% endfor -%}
        min(age_days) filter (where is_activity and is_web_visit) as days_since_last_web_visit,
        max(age_days) filter (where is_activity) as days_since_first_touch,
        count(distinct floor(age_days)) filter (where is_activity and age_days <= 30) as active_days_30d,
        count(distinct floor(age_days)) filter (where is_activity and age_days <= 90) as active_days_90d,
        count(*) filter (where is_activity and age_days <= 30)
        / nullif(count(distinct floor(age_days)) filter (where is_activity and age_days <= 30), 0)
            as actions_per_active_day_30d,
        (count(*) filter (where is_activity and age_days <= 7) / 7.0)
        / nullif(count(*) filter (where is_activity and age_days <= 30) / 30.0, 0)
            as activity_trend_7d_vs_30d,
        -- sequence
        count(*) filter (where is_session_start) as sessions_total,
        count(*) filter (where is_session_start and age_days <= 7) as sessions_7d,
        count(*) filter (where is_session_start and age_days <= 30) as sessions_30d,
        count(*) filter (where is_activity)
        / nullif(count(*) filter (where is_session_start), 0) as actions_per_session,
        coalesce(max(sessions_in_burst_window), 0) as max_sessions_in_burst_window,
        coalesce(max(sessions_in_burst_window), 0) >= {{ var('burst_min_sessions') }} as has_session_burst,
        count(*) filter (where is_pricing_view) as pricing_views_total,
        count(*) filter (where is_pricing_view and age_days <= 30) as pricing_views_30d,
        max(age_days) filter (where intent_category = 'high_intent') as days_since_first_high_intent,
        bool_or(is_pricing_after_download) as has_pricing_after_download,
        bool_or(is_download_after_pricing) as has_pricing_before_download,
        min(activity_number) filter (where intent_category = 'high_intent') - 1
            as steps_to_first_high_intent,
        (
            epoch(min(occurred_at) filter (where intent_category = 'high_intent'))
            - epoch(min(occurred_at) filter (where is_activity))
        ) / 3600.0 as hours_to_first_high_intent,
        count(distinct channel) filter (where is_activity) as unique_channels,
        max(age_days) filter (where is_activity) - min(age_days) filter (where is_activity)
            as touchpoint_span_days,
        arg_min(channel, event_number) filter (where is_activity) as first_touch_channel,
        arg_max(channel, event_number) filter (where is_activity) as last_touch_channel,
        avg(is_weekend::integer) filter (where is_activity) as weekend_share,
        avg(is_business_hours::integer) filter (where is_activity) as business_hours_share,
    from past_events
    group by lead_id, as_of
),

feature_rows as (
    select
        spine.lead_id,
        spine.as_of,
        -- fit
        {% for column in leadscore_categorical_features() + leadscore_numeric_features() -%}
        spine.{{ leadscore_ident(column) }},
        {% endfor -%}
        {{ leadscore_days_between('spine.created_at', 'spine.as_of') }} as days_since_created,
        -- behaviour (leads without any event before the cutoff get zero counts)
        {% for days in windows -%}
        coalesce(behaviour.activities_{{ days }}d, 0) as activities_{{ days }}d,
        {% for channel in leadscore_channels() -%}
        {%- set name = leadscore_ident(leadscore_slug(channel) ~ '_actions_' ~ days ~ 'd') %}
        coalesce(behaviour.{{ name }}, 0) as {{ name }},
        {% endfor -%}
        {% for intent in leadscore_intents() -%}
        {%- set name = leadscore_ident(leadscore_slug(intent) ~ '_signals_' ~ days ~ 'd') %}
        coalesce(behaviour.{{ name }}, 0) as {{ name }},
        {% endfor -%}
        {% endfor -%}
        coalesce(behaviour.activities_total, 0) as activities_total,
        coalesce(behaviour.engagement_score_decayed, 0) as engagement_score_decayed,
        coalesce(behaviour.emails_sent_90d, 0) as emails_sent_90d,
        behaviour.email_open_rate_90d,
        behaviour.email_click_rate_90d,
        behaviour.email_open_rate_total,
        behaviour.email_click_rate_total,
        coalesce(behaviour.has_unsubscribed, false)::integer as has_unsubscribed,
        behaviour.days_since_last_activity,
        {% for intent in leadscore_intents() -%}
        behaviour.{{ leadscore_ident('days_since_last_' ~ leadscore_slug(intent)) }},
        {% endfor -%}
        behaviour.days_since_last_web_visit,
        behaviour.days_since_first_touch,
        coalesce(behaviour.active_days_30d, 0) as active_days_30d,
        coalesce(behaviour.active_days_90d, 0) as active_days_90d,
        behaviour.actions_per_active_day_30d,
        behaviour.activity_trend_7d_vs_30d,
        coalesce(behaviour.sessions_total, 0) as sessions_total,
        coalesce(behaviour.sessions_7d, 0) as sessions_7d,
        coalesce(behaviour.sessions_30d, 0) as sessions_30d,
        -- the lead's usual pace: sessions per 30 days since it was created (or first seen)
        30.0 * coalesce(behaviour.sessions_total, 0) / greatest(
            coalesce(
                {{ leadscore_days_between('spine.created_at', 'spine.as_of') }},
                behaviour.days_since_first_touch
            ),
            1
        ) as sessions_per_30d_lifetime,
        -- recent pace against the usual one: a buying journey shows as a jump
        (coalesce(behaviour.activities_30d, 0) + 1.0) / (
            30.0 * coalesce(behaviour.activities_total, 0) / greatest(
                coalesce(
                    {{ leadscore_days_between('spine.created_at', 'spine.as_of') }},
                    behaviour.days_since_first_touch
                ),
                30
            ) + 1.0
        ) as activity_lift_30d_vs_lifetime,
        behaviour.actions_per_session,
        coalesce(behaviour.max_sessions_in_burst_window, 0) as max_sessions_in_burst_window,
        coalesce(behaviour.has_session_burst, false)::integer as has_session_burst,
        coalesce(behaviour.pricing_views_total, 0) as pricing_views_total,
        coalesce(behaviour.pricing_views_30d, 0) as pricing_views_30d,
        behaviour.days_since_first_high_intent,
        coalesce(behaviour.has_pricing_after_download, false)::integer as has_pricing_after_download,
        coalesce(behaviour.has_pricing_before_download, false)::integer as has_pricing_before_download,
        behaviour.steps_to_first_high_intent,
        behaviour.hours_to_first_high_intent,
        coalesce(behaviour.unique_channels, 0) as unique_channels,
        behaviour.touchpoint_span_days,
        behaviour.first_touch_channel,
        behaviour.last_touch_channel,
        behaviour.weekend_share,
        behaviour.business_hours_share,
    from {{ spine }} as spine
    left join behaviour
        on
            spine.lead_id = behaviour.lead_id
            and spine.as_of = behaviour.as_of
)

select * from feature_rows
{% endmacro %}
