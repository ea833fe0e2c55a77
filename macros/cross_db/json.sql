{#- JSON text built from columns: objects, arrays of rows, and the reasons a score carries.
    columns: a list of column names; each becomes a key of the same name, in that order. -#}

{% macro json_object(columns) -%}
    {#- A JSON object of the current row's columns, keys in the order given. -#}
    {{- return(adapter.dispatch('json_object', 'leadscore')(columns)) -}}
{%- endmacro %}

{% macro default__json_object(columns) -%}
    to_json(named_struct(
        {%- for column in columns %}'{{ column }}', {{ column }}{{ ', ' if not loop.last }}{% endfor -%}
    ))
{%- endmacro %}

{% macro duckdb__json_object(columns) -%}
    to_json({
        {%- for column in columns %}'{{ column }}': {{ column }}{{ ', ' if not loop.last }}{% endfor -%}
    })
{%- endmacro %}

{% macro json_array_agg(columns) -%}
    {#- Aggregate: a JSON array (as text) of one object per row, keys in the order given. -#}
    {{- return(adapter.dispatch('json_array_agg', 'leadscore')(columns)) -}}
{%- endmacro %}

{% macro default__json_array_agg(columns) -%}
    to_json(collect_list(named_struct(
        {%- for column in columns %}'{{ column }}', {{ column }}{{ ', ' if not loop.last }}{% endfor -%}
    )))
{%- endmacro %}

{% macro duckdb__json_array_agg(columns) -%}
    cast(to_json(list({
        {%- for column in columns %}'{{ column }}': {{ column }}{{ ', ' if not loop.last }}{% endfor -%}
    })) as varchar)
{%- endmacro %}

{% macro json_strongest_reasons(factors, n) -%}
    {#- factors: JSON text, an array of {"feature", "contribution", "reason"} (lead_scores'
        top_factors). The list of the n reasons whose contributions are largest either way,
        strongest first (ties by feature name), each followed by which way it moves the score. -#}
    {{- return(adapter.dispatch('json_strongest_reasons', 'leadscore')(factors, n)) -}}
{%- endmacro %}

{% macro default__json_strongest_reasons(factors, n) -%}
    transform(
        slice(
            array_sort(
                from_json(
                    {{ factors }},
                    'array<struct<feature:string,contribution:double,reason:string>>'
                ),
                (a, b) -> case
                    when abs(a.contribution) > abs(b.contribution) then -1
                    when abs(a.contribution) < abs(b.contribution) then 1
                    when a.feature < b.feature then -1
                    when a.feature > b.feature then 1
                    else 0
                end
            ),
            1,
            {{ n }}
        ),
        f -> f.reason || case
            when f.contribution > 0 then ' (raises the score)'
            else ' (lowers the score)'
        end
    )
{%- endmacro %}

{% macro duckdb__json_strongest_reasons(factors, n) -%}
    list_transform(
        list_slice(list_sort(list_transform(
            from_json(
                {{ factors }},
                '[{"feature": "VARCHAR", "contribution": "DOUBLE", "reason": "VARCHAR"}]'
            ),
            lambda f: {'strength': -abs(f.contribution), 'feature': f.feature, 'factor': f}
        )), 1, {{ n }}),
        lambda ranked: ranked.factor.reason || case
            when ranked.factor.contribution > 0 then ' (raises the score)'
            else ' (lowers the score)'
        end
    )
{%- endmacro %}
