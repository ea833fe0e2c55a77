{#- List (array) helpers: the list functions and lambdas each engine spells its own way.
    parameter / body: the name of the element and an expression of it, e.g.
    leadscore.list_transform('values', 'v', 'v * 2'). -#}

{% macro list_transform(expression, parameter, body) -%}
    {{- return(adapter.dispatch('list_transform', 'leadscore')(expression, parameter, body)) -}}
{%- endmacro %}

{% macro default__list_transform(expression, parameter, body) -%}
    transform({{ expression }}, {{ parameter }} -> {{ body }})
{%- endmacro %}

{% macro duckdb__list_transform(expression, parameter, body) -%}
    list_transform({{ expression }}, lambda {{ parameter }}: {{ body }})
{%- endmacro %}

{% macro list_filter(expression, parameter, condition) -%}
    {{- return(adapter.dispatch('list_filter', 'leadscore')(expression, parameter, condition)) -}}
{%- endmacro %}

{% macro default__list_filter(expression, parameter, condition) -%}
    filter({{ expression }}, {{ parameter }} -> {{ condition }})
{%- endmacro %}

{% macro duckdb__list_filter(expression, parameter, condition) -%}
    list_filter({{ expression }}, lambda {{ parameter }}: {{ condition }})
{%- endmacro %}

{% macro list_length(expression) -%}
    {{- return(adapter.dispatch('list_length', 'leadscore')(expression)) -}}
{%- endmacro %}

{% macro default__list_length(expression) -%}
    cardinality({{ expression }})
{%- endmacro %}

{% macro duckdb__list_length(expression) -%}
    len({{ expression }})
{%- endmacro %}

{% macro list_of_values(values, element_type='varchar') -%}
    {#- A list literal of Jinja values (strings quoted), typed element_type. -#}
    {{- return(adapter.dispatch('list_of_values', 'leadscore')(values, element_type)) -}}
{%- endmacro %}

{% macro default__list_of_values(values, element_type='varchar') -%}
    cast(array(
        {%- for value in values -%}
        {{ "'" ~ (value | replace("'", "''")) ~ "'" if value is string else value }}
        {{- ', ' if not loop.last }}
        {%- endfor -%}
    ) as array<{{ element_type }}>)
{%- endmacro %}

{% macro duckdb__list_of_values(values, element_type='varchar') -%}
    cast([
        {%- for value in values -%}
        {{ "'" ~ (value | replace("'", "''")) ~ "'" if value is string else value }}
        {{- ', ' if not loop.last }}
        {%- endfor -%}
    ] as {{ element_type }}[])
{%- endmacro %}
