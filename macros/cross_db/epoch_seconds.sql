{#- Seconds since 1970-01-01 00:00:00 of a timestamp, as a double. -#}

{% macro epoch_seconds(expression) -%}
    {{- return(adapter.dispatch('epoch_seconds', 'leadscore')(expression)) -}}
{%- endmacro %}

{% macro default__epoch_seconds(expression) -%}
    cast(extract(epoch from {{ expression }}) as double)
{%- endmacro %}

{% macro duckdb__epoch_seconds(expression) -%}
    cast(epoch({{ expression }}) as double)
{%- endmacro %}
