{#- Every raw event row, typed, with the reason it cannot be used (NULL when it can). #}

with events as (
    select * from {{ source('raw', 'events') }}
),

leads as (
    select
        lead_id,
        created_at,
    from {{ ref('base_raw__leads') }}
    where reject_reason is null
),

typed as (
    select
        row_number() over () as source_row_number,
        {{ leadscore_clean_text('lead_id') }} as lead_id,
        {{ leadscore_clean_text('event_id') }} as event_id_text,
        {{ leadscore_clean_text('occurred_at') }} as occurred_at_text,
        {{ leadscore_try_timestamp('occurred_at') }} as occurred_at,
        lower({{ leadscore_clean_text('channel') }}) as channel,
        lower({{ leadscore_clean_text('event_type') }}) as event_type,
        lower({{ leadscore_clean_text('page_category') }}) as page_category,
        {{ leadscore_clean_text('campaign') }} as campaign,
        {{ leadscore_clean_text('source') }} as source,
        {{ leadscore_clean_text('value') }} as value_text,
        {{ leadscore_try_double('value') }} as value,
        {{ leadscore_raw_row_json(source('raw', 'events')) }} as raw_row
    from events
),

identified as (
    select
        *,
        coalesce(
            event_id_text,
            md5(concat_ws('|', lead_id, occurred_at_text, channel, event_type, page_category, campaign))
        ) as event_id,
    from typed
),

ranked as (
    select
        *,
        row_number() over (partition by event_id order by source_row_number) as event_copy_number,
    from identified
),

checked as (
    select
        ranked.*,
        leads.created_at as lead_created_at,
        case
            when ranked.lead_id is null then 'missing lead_id'
            when ranked.occurred_at_text is null then 'missing occurred_at'
            when ranked.occurred_at is null then 'unparseable occurred_at'
            when ranked.channel is null or ranked.event_type is null then 'missing channel or event_type'
            when ranked.value_text is not null and (ranked.value is null or not isfinite(ranked.value))
                then 'non-numeric value'
            when leads.lead_id is null then 'unknown lead_id'
            when ranked.occurred_at < leads.created_at then 'before the lead was created'
            when ranked.occurred_at >= {{ leadscore_as_of() }} then 'after as_of'
            when ranked.event_copy_number > 1 then 'duplicate event'
        end as reject_reason,
    from ranked
    left join leads on ranked.lead_id = leads.lead_id
)

select * from checked
