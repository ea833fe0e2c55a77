{#- Every raw conversion row, typed, with the reason it cannot be used (NULL when it can).
    A lead's first usable conversion is kept; its later ones are rejected as duplicates. #}

with conversions as (
    select
        *,
        {{ leadscore_source_row_number(source('raw', 'conversions')) }} as leadscore_source_row
    from {{ source('raw', 'conversions') }}
),

base_leads as (
    select * from {{ ref('base_raw__leads') }}
),

usable_leads as (
    select
        lead_id,
        created_at
    from base_leads
    where reject_reason is null
),

known_lead_ids as (
    select distinct lead_id from base_leads
    where lead_id is not null
),

typed as (
    select
        leadscore_source_row as source_row_number,
        {{ leadscore_clean_text('lead_id') }} as lead_id,
        {{ leadscore_clean_text('converted_at') }} as converted_at_text,
        {{ leadscore_try_timestamp('converted_at') }} as converted_at,
        {{ leadscore_clean_text('amount') }} as amount_text,
        {{ leadscore_try_double('amount') }} as amount,
        {{ leadscore_raw_row_json(source('raw', 'conversions'), exclude=var('pii_columns')) }}
            as raw_row
    from conversions
),

checked as (
    select
        typed.*,
        case
            when typed.lead_id is null then 'missing lead_id'
            when typed.converted_at_text is null then 'missing converted_at'
            when typed.converted_at is null then 'unparseable converted_at'
            when typed.amount_text is not null
                and (typed.amount is null or not isfinite(typed.amount))
                then 'non-numeric amount'
            when usable_leads.lead_id is null and known_lead_ids.lead_id is not null
                then 'its lead was rejected'
            when usable_leads.lead_id is null then 'unknown lead_id'
            when typed.converted_at < usable_leads.created_at then 'before the lead was created'
            when typed.converted_at >= {{ leadscore_as_of() }} then 'after as_of'
        end as row_problem
    from typed
    left join usable_leads on typed.lead_id = usable_leads.lead_id
    left join known_lead_ids on typed.lead_id = known_lead_ids.lead_id
),

ranked as (
    select
        *,
        row_number() over (
            partition by lead_id
            order by row_problem is not null, converted_at nulls last, source_row_number
        ) as conversion_number
    from checked
),

final as (
    select
        * exclude (row_problem),
        coalesce(
            row_problem,
            case when conversion_number > 1 then 'later duplicate conversion' end
        ) as reject_reason
    from ranked
)

select * from final
