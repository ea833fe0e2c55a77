{#- One event timeline per lead: each event classified by the taxonomy (intent, weight and the
    role it plays in the sequence features: see macros/taxonomy.sql) and placed in a session (a
    new session starts after a gap of more than var('session_gap_minutes')).

    Every derived column of an event depends only on that event and the events before it, so
    aggregating the rows with occurred_at < as_of gives point-in-time-correct features.

    Incremental: every row carries its lead's fingerprint (the lead's events, the taxonomy, the
    session settings and this model's code), and a run rebuilds only the leads whose fingerprint
    changed; leads left without events are deleted (macros/incremental.sql). `--full-refresh`
    rebuilds everything. #}
{{ config(
    materialized='incremental',
    unique_key='lead_id',
    incremental_strategy='delete+insert',
    on_schema_change='sync_all_columns',
    post_hook="{{ leadscore_delete_keys_not_in(ref('stg_raw__events')) }}",
) }}
{%- set settings = model.raw_code ~ var('session_gap_minutes') ~ '|' ~ var('burst_window_hours') %}

with events as (
    select * from {{ ref('stg_raw__events') }}
),

-- depends_on: {{ ref('event_taxonomy') }}
taxonomy as (
    select * from {{ leadscore_taxonomy_relation() }}
),

lead_fingerprints as (
    -- everything a lead's rows are computed from (event ids are unique, so xor-ing the row
    -- hashes loses nothing)
    select
        lead_id,
        {{ leadscore_fingerprint(settings, [
            '(select ' ~ leadscore_rows_fingerprint('taxonomy') ~ ' from taxonomy)',
            'count(*)',
            leadscore_rows_fingerprint('events'),
        ]) }} as lead_fingerprint
    from events
    group by lead_id
),

changed_leads as (
    -- the leads to rebuild: all of them, or in an incremental run the changed and new ones
    {{ leadscore_changed_only('lead_fingerprints', 'lead_fingerprint') }}
),

changed_events as (
    select
        events.*,
        changed_leads.lead_fingerprint
    from events
    inner join changed_leads on events.lead_id = changed_leads.lead_id
),

taxonomy_rules as (
    -- one rule per (channel, event_type, page_category), whatever the seed holds
    select * from taxonomy
    qualify row_number() over (partition by channel, event_type, page_category) = 1
),

classified as (
    -- the most specific rule wins: an exact page_category before the '*' wildcard (two
    -- lookups, not a window over every event)
    select
        changed_events.*,
        coalesce(
            case when exact.page_category is not null then exact.intent_category
                else wildcard.intent_category
            end,
            'unclassified'
        ) as intent_category,
        coalesce(
            case when exact.page_category is not null then exact.intent_weight
                else wildcard.intent_weight
            end,
            0
        ) as intent_weight,
        case when exact.page_category is not null then exact.role else wildcard.role end as role
    from changed_events
    left join taxonomy_rules as exact
        on
            changed_events.channel = exact.channel
            and changed_events.event_type = exact.event_type
            and changed_events.page_category = exact.page_category
    left join taxonomy_rules as wildcard
        on
            changed_events.channel = wildcard.channel
            and changed_events.event_type = wildcard.event_type
            and wildcard.page_category = '*'
),

flagged as (
    select
        *,
        -- outbound sends are not something the lead did: no session, no activity
        intent_category != 'outbound' as is_activity,
        coalesce(role = 'pricing', false) as is_pricing_view,
        coalesce(role = 'content_download', false) as is_download,
        coalesce(role in ('web_visit', 'pricing'), false) as is_web_visit
    from classified
),

sequenced as (
    select
        *,
        row_number() over lead_timeline as event_number,
        lag(occurred_at) over activity_timeline as previous_activity_at,
        row_number() over activity_timeline as activity_number,
        coalesce(
            bool_or(is_download)
                over (lead_timeline rows between unbounded preceding and 1 preceding),
            false
        ) as has_prior_download,
        coalesce(
            bool_or(is_pricing_view)
                over (lead_timeline rows between unbounded preceding and 1 preceding),
            false
        ) as has_prior_pricing_view
    from flagged
    window
        lead_timeline as (partition by lead_id order by occurred_at, event_id),
        activity_timeline as (partition by lead_id, is_activity order by occurred_at, event_id)
),

sessionized as (
    select
        *,
        is_activity and (
            previous_activity_at is null
            or occurred_at - previous_activity_at
            > interval '{{ var("session_gap_minutes") }} minutes'
        ) as is_session_start,
        is_pricing_view and has_prior_download as is_pricing_after_download,
        is_download and has_prior_pricing_view as is_download_after_pricing
    from sequenced
),

numbered as (
    select
        *,
        case when is_activity then sum(is_session_start::integer) over activity_timeline end
            as session_number,
        -- sessions started in the burst window ending at this session's start (past only)
        case when is_session_start then count(*) over session_starts end as sessions_in_burst_window
    from sessionized
    window
        activity_timeline as (
            partition by lead_id, is_activity order by occurred_at, event_id
            rows between unbounded preceding and current row
        ),
        session_starts as (
            partition by lead_id, is_session_start order by occurred_at
            range between interval '{{ var("burst_window_hours") }} hours' preceding and current row
        )
),

final as (
    select
        event_id,
        lead_id,
        occurred_at,
        channel,
        event_type,
        page_category,
        campaign,
        value,
        intent_category,
        intent_weight,
        role,
        is_activity,
        is_web_visit,
        is_pricing_view,
        is_download,
        event_number,
        case when is_activity then activity_number end as activity_number,
        is_session_start,
        session_number,
        sessions_in_burst_window,
        is_pricing_after_download,
        is_download_after_pricing,
        isodow(occurred_at) in (6, 7) as is_weekend,
        isodow(occurred_at) between 1 and 5
        and hour(occurred_at) between 9 and 17 as is_business_hours,
        lead_fingerprint
    from numbered
)

select * from final
