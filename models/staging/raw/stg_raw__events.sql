{#- One row per usable, de-duplicated event, before as_of and not before its lead was created. #}

with base_events as (
    select * from {{ ref('base_raw__events') }}
),

usable as (
    select
        event_id,
        lead_id,
        occurred_at,
        channel,
        event_type,
        page_category,
        campaign,
        source,
        value
    from base_events
    where reject_reason is null
)

select * from usable
