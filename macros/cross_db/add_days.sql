{#- A timestamp moved by a whole number of days (negative: back), time of day kept. -#}

{% macro add_days(expression, days) -%}
    {{- return(adapter.dispatch('add_days', 'leadscore')(expression, days)) -}}
{%- endmacro %}

{% macro default__add_days(expression, days) -%}
    {{ dbt.dateadd('day', days, expression) }}
{%- endmacro %}

{% macro spark__add_days(expression, days) -%}
    {#- dbt's Spark dateadd goes through dates and unix seconds (and fails on NULL): an
        interval keeps the timestamp as it is -#}
    ({{ expression }} + make_dt_interval({{ days }}))
{%- endmacro %}
