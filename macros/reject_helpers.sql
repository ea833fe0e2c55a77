{#- Helpers for the base models, which type each raw row and give it a reject_reason (NULL when
    the row is usable). Staging keeps the usable rows; audit/rejected_rows keeps the others. -#}

{% macro leadscore_raw_row_json(relation, exclude=[]) -%}
    {#- The raw row as JSON, without PII columns (matched case-insensitively, as DuckDB matches
        column names), so a rejected row can be inspected safely. -#}
    {%- set columns = adapter.get_columns_in_relation(relation) if execute else [] -%}
    {%- set excluded = (exclude | map('lower') | list) + ['leadscore_row_number'] -%}
    {%- set kept = [] -%}
    {%- for column in columns if column.name | lower not in excluded -%}
        {%- do kept.append(adapter.quote(column.name) ~ ' := ' ~ adapter.quote(column.name)) -%}
    {%- endfor -%}
    {%- if kept -%}to_json(struct_pack({{ kept | join(', ') }})){%- else -%}null::json{%- endif -%}
{%- endmacro %}

{% macro leadscore_try_timestamp(expression) -%}
    {#- A naive UTC timestamp, NULL when the text is not one. Text that names its offset or
        zone ('...Z', '...+02:00', '... UTC', '... Europe/Berlin') is converted to UTC: a plain
        cast to timestamp would silently drop the offset. Text without one is taken as UTC. -#}
    case
        when regexp_matches(
            {{ leadscore_clean_text(expression) }},
            '\d:\d\d(:\d\d(\.\d+)?)?\s*(z|utc|gmt|[+-]\d\d(:?\d\d)?|[a-z_]+/[a-z_/+-]+)$',
            'i'
        )
            then timezone('UTC', try_cast({{ leadscore_clean_text(expression) }} as timestamptz))
        else try_cast({{ leadscore_clean_text(expression) }} as timestamp)
    end
{%- endmacro %}

{% macro leadscore_try_double(expression) -%}
    try_cast({{ leadscore_clean_text(expression) }} as double)
{%- endmacro %}
