{#- The current row of a relation (its name or alias) as one value, a struct of its columns:
    what a fingerprint hashes, e.g. hash({{ leadscore.row_value('leads') }}). -#}

{% macro row_value(relation) -%}
    {{- return(adapter.dispatch('row_value', 'leadscore')(relation)) -}}
{%- endmacro %}

{% macro default__row_value(relation) -%}
    struct({{ relation }}.*)
{%- endmacro %}

{% macro duckdb__row_value(relation) -%}
    {#- DuckDB reads a relation's name in an expression as its row -#}
    {{ relation }}
{%- endmacro %}
