{#- A timestamptz as a naive UTC timestamp. DuckDB: make_timestamp(epoch_us(...)), which equals
    timezone('UTC', ...) and, unlike it, lets a prepared query keep its plan (`leadscore serve`
    relies on that). Elsewhere: timezone('UTC', ...), which the Spark translation understands. -#}

{% macro leadscore_utc_timestamp(expression) -%}
    {{- return(adapter.dispatch('leadscore_utc_timestamp', 'leadscore')(expression)) -}}
{%- endmacro %}

{% macro default__leadscore_utc_timestamp(expression) -%}
    timezone('UTC', {{ expression }})
{%- endmacro %}

{% macro duckdb__leadscore_utc_timestamp(expression) -%}
    make_timestamp(epoch_us({{ expression }}))
{%- endmacro %}
