{#- One row per converted lead: its first usable conversion. #}

with base_conversions as (
    select * from {{ ref('base_raw__conversions') }}
),

usable as (
    select
        lead_id,
        converted_at,
        amount
    from base_conversions
    where reject_reason is null
)

select * from usable
