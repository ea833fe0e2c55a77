{#- Rows of the raw CSV files that could not be parsed at all (wrong number of fields, invalid
    UTF-8), one per row, found by the leadscore_register_raw_inputs hook. The row itself is not
    kept: its fields cannot be told apart, so PII could not be removed from it. #}

with malformed_rows as (
    select * from {{ source('raw', 'malformed_rows') }}
),

final as (
    select
        input_name,
        file,
        file_row_number,
        reject_reason
    from malformed_rows
)

select * from final
