{#- Every raw conversion row, typed, with the reason it cannot be used (NULL when it can). #}

with conversions as (
    select * from {{ source('raw', 'conversions') }}
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
        {{ leadscore_clean_text('converted_at') }} as converted_at_text,
        {{ leadscore_try_timestamp('converted_at') }} as converted_at,
        {{ leadscore_clean_text('amount') }} as amount_text,
        {{ leadscore_try_double('amount') }} as amount,
        {{ leadscore_raw_row_json(source('raw', 'conversions')) }} as raw_row
    from conversions
),

ranked as (
    select
        *,
        row_number() over (
            partition by lead_id order by converted_at nulls last, source_row_number
        ) as conversion_number,
    from typed
),

checked as (
    select
        ranked.*,
        case
            when ranked.lead_id is null then 'missing lead_id'
            when ranked.converted_at_text is null then 'missing converted_at'
            when ranked.converted_at is null then 'unparseable converted_at'
            when ranked.amount_text is not null and (ranked.amount is null or not isfinite(ranked.amount))
                then 'non-numeric amount'
            when leads.lead_id is null then 'unknown lead_id'
            when ranked.converted_at < leads.created_at then 'before the lead was created'
            when ranked.converted_at >= {{ leadscore_as_of() }} then 'after as_of'
            when ranked.conversion_number > 1 then 'later duplicate conversion'
        end as reject_reason,
    from ranked
    left join leads on ranked.lead_id = leads.lead_id
)

select * from checked
