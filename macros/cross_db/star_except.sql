{#- Every column of a relation but the named ones: `select {{ leadscore.star_except(['a']) }}`.
    Engines without a `* except` form implement it from the relation's columns. -#}

{% macro star_except(columns, relation=none) -%}
    {{- return(adapter.dispatch('star_except', 'leadscore')(columns, relation)) -}}
{%- endmacro %}

{% macro default__star_except(columns, relation=none) -%}
    {%- if relation is none -%}
        {{ exceptions.raise_compiler_error(
            "star_except needs the relation on " ~ target.type ~ ": pass relation=ref(...)") }}
    {%- endif -%}
    {%- set excluded = columns | map('lower') | list -%}
    {%- set kept = [] -%}
    {%- for column in adapter.get_columns_in_relation(relation)
        if column.name | lower not in excluded -%}
        {%- do kept.append(adapter.quote(column.name)) -%}
    {%- endfor -%}
    {{ kept | join(', ') }}
{%- endmacro %}

{% macro duckdb__star_except(columns, relation=none) -%}
    * exclude ({{ columns | join(', ') }})
{%- endmacro %}
