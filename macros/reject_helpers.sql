{#- Helpers for the base models, which type each raw row and give it a reject_reason (NULL when
    the row is usable). Staging keeps the usable rows; audit/rejected_rows keeps the others. -#}

{% macro leadscore_raw_row_struct(relation, exclude=[]) -%}
    {#- The raw row as a struct, without PII columns (matched case-insensitively, as DuckDB
        matches column names), so a rejected row can be inspected safely. -#}
    {%- set columns = adapter.get_columns_in_relation(relation) if execute else [] -%}
    {%- set excluded = (exclude | map('lower') | list) + ['leadscore_row_number'] -%}
    {%- set kept = [] -%}
    {%- for column in columns if column.name | lower not in excluded -%}
        {%- do kept.append(adapter.quote(column.name) ~ ' := ' ~ adapter.quote(column.name)) -%}
    {%- endfor -%}
    {%- if kept -%}struct_pack({{ kept | join(', ') }}){%- else -%}null{%- endif -%}
{%- endmacro %}

{% macro leadscore_raw_row_json(relation, exclude=[]) -%}
    {#- leadscore_raw_row_struct as JSON -#}
    {%- set row = leadscore_raw_row_struct(relation, exclude) -%}
    {%- if (row | trim) == 'null' -%}null::json{%- else -%}to_json({{ row }}){%- endif -%}
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
            then {{ leadscore_utc_timestamp(
                'try_cast(' ~ leadscore_clean_text(expression) ~ ' as timestamptz)'
            ) }}
        else try_cast({{ leadscore_clean_text(expression) }} as timestamp)
    end
{%- endmacro %}

{% macro leadscore_try_double(expression) -%}
    try_cast({{ leadscore_clean_text(expression) }} as double)
{%- endmacro %}

{% macro leadscore_identify_raw_events(rows) -%}
    {#- Raw event rows (a relation or CTE with the raw columns and leadscore_source_row), typed,
        with the event_id that de-duplication goes by: the export's own, or a hash of the event's
        fields when it has none. -#}
    select
        typed.*,
        coalesce(
            event_id_text,
            md5(concat_ws('|', lead_id, occurred_at_text, channel, event_type, page_category, campaign))
        ) as event_id,
    from (
        select
            leadscore_source_row as source_row_number,
            row_key,
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
            {{ leadscore_raw_row_struct(source('raw', 'events'), exclude=var('pii_columns')) }} as raw_struct,
        from {{ rows }}
    ) as typed
{%- endmacro %}
