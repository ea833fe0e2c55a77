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

{% macro list_of(expressions, element_type) -%}
    {#- A list of SQL expressions (one element each), typed element_type. -#}
    {{- return(adapter.dispatch('list_of', 'leadscore')(expressions, element_type)) -}}
{%- endmacro %}

{% macro default__list_of(expressions, element_type) -%}
    cast(array({{ expressions | join(', ') }}) as array<{{ element_type }}>)
{%- endmacro %}

{% macro duckdb__list_of(expressions, element_type) -%}
    cast([{{ expressions | join(', ') }}] as {{ element_type }}[])
{%- endmacro %}

{% macro list_masked_sum(values, mask) -%}
    {#- The sum of the elements of list `values` whose element in the boolean list `mask` (same
        length) is true: 0 when none is. -#}
    {{- return(adapter.dispatch('list_masked_sum', 'leadscore')(values, mask)) -}}
{%- endmacro %}

{% macro default__list_masked_sum(values, mask) -%}
    aggregate(
        zip_with({{ values }}, {{ mask }}, (v, m) -> case when m then v else 0 end),
        cast(0 as double),
        (total, v) -> total + v
    )
{%- endmacro %}

{% macro duckdb__list_masked_sum(values, mask) -%}
    list_sum(list_transform(
        range(1, len({{ values }}) + 1),
        lambda i: case when ({{ mask }})[i] then ({{ values }})[i] else 0 end
    ))
{%- endmacro %}
