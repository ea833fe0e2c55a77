{#- Every raw row that the build could not use, with the reason. Nothing is dropped silently:
    for each input, its rows in staging plus its rows here are all the rows of the input. The
    rejected_share test warns or fails when too large a share of an input lands here. #}

with base_leads as (
    select * from {{ ref('base_raw__leads') }}
),

base_events as (
    select * from {{ ref('base_raw__events') }}
),

base_conversions as (
    select * from {{ ref('base_raw__conversions') }}
),

base_malformed_rows as (
    select * from {{ ref('base_raw__malformed_rows') }}
),

rejected as (
    select
        'leads' as input_name,
        source_row_number,
        null::bigint as file_row_number,
        lead_id,
        reject_reason,
        raw_row
    from base_leads
    where reject_reason is not null
    union all
    select
        'events' as input_name,
        source_row_number,
        null::bigint as file_row_number,
        lead_id,
        reject_reason,
        raw_row
    from base_events
    where reject_reason is not null
    union all
    select
        'conversions' as input_name,
        source_row_number,
        null::bigint as file_row_number,
        lead_id,
        reject_reason,
        raw_row
    from base_conversions
    where reject_reason is not null
    union all
    -- rows that could not even be parsed: located by their row in the file instead
    select
        input_name,
        null::bigint as source_row_number,
        file_row_number,
        null::varchar as lead_id,
        reject_reason,
        null::json as raw_row
    from base_malformed_rows
),

final as (
    select
        input_name,
        source_row_number,
        file_row_number,
        lead_id,
        reject_reason,
        raw_row::varchar as raw_row,
        {{ leadscore_as_of() }} as as_of
    from rejected
)

select * from final
