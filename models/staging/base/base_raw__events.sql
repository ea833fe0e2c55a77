{#- Every raw event row, typed, with the reason it cannot be used (NULL when it can). #}

with events as (
    select
        *,
        {{ leadscore_source_row_number(source('raw', 'events')) }} as leadscore_source_row,
    from {{ source('raw', 'events') }}
),

base_leads as (
    select * from {{ ref('base_raw__leads') }}
),

usable_leads as (
    select
        lead_id,
        created_at,
    from base_leads
    where reject_reason is null
),

known_lead_ids as (
    -- leads in the export, usable or not: an event of a rejected lead says so
    select distinct lead_id from base_leads where lead_id is not null
),

typed as (
    select
        leadscore_source_row as source_row_number,
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
        {{ leadscore_raw_row_json(source('raw', 'events'), exclude=var('pii_columns')) }} as raw_row
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

checked as (
    select
        identified.*,
        usable_leads.created_at as lead_created_at,
        case
            when identified.lead_id is null then 'missing lead_id'
            when identified.occurred_at_text is null then 'missing occurred_at'
            when identified.occurred_at is null then 'unparseable occurred_at'
            when identified.channel is null or identified.event_type is null
                then 'missing channel or event_type'
            when identified.value_text is not null
                and (identified.value is null or not isfinite(identified.value))
                then 'non-numeric value'
            when usable_leads.lead_id is null and known_lead_ids.lead_id is not null
                then 'its lead was rejected'
            when usable_leads.lead_id is null then 'unknown lead_id'
            when identified.occurred_at < usable_leads.created_at then 'before the lead was created'
            when identified.occurred_at >= {{ leadscore_as_of() }} then 'after as_of'
        end as row_problem,
    from identified
    left join usable_leads on identified.lead_id = usable_leads.lead_id
    left join known_lead_ids on identified.lead_id = known_lead_ids.lead_id
),

ranked as (
    select
        *,
        -- usable copies first, so a broken copy never pushes out a good one
        row_number() over (
            partition by event_id order by row_problem is not null, source_row_number
        ) as event_copy_number,
    from checked
),

final as (
    select
        * exclude (row_problem),
        coalesce(
            row_problem,
            case when event_copy_number > 1 then 'duplicate event' end
        ) as reject_reason,
    from ranked
)

select * from final
