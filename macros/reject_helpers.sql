{#- Helpers for the base models, which type each raw row and give it a reject_reason (NULL when
    the row is usable). Staging keeps the usable rows; audit/rejected_rows keeps the others. -#}

{% macro leadscore_raw_row_json(relation, exclude=[]) -%}
    {#- The raw row as JSON, without PII columns, so a rejected row can be inspected safely. -#}
    {%- set columns = adapter.get_columns_in_relation(relation) if execute else [] -%}
    {%- set kept = [] -%}
    {%- for column in columns if column.name not in exclude -%}
        {%- do kept.append(adapter.quote(column.name) ~ ' := ' ~ adapter.quote(column.name)) -%}
    {%- endfor -%}
    {%- if kept -%}to_json(struct_pack({{ kept | join(', ') }})){%- else -%}null::json{%- endif -%}
{%- endmacro %}

{% macro leadscore_try_timestamp(expression) -%}
    try_cast({{ leadscore_clean_text(expression) }} as timestamp)
{%- endmacro %}

{% macro leadscore_try_double(expression) -%}
    try_cast({{ leadscore_clean_text(expression) }} as double)
{%- endmacro %}
