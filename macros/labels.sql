{#- The label rule, once: a lead scored (or cut off) at as_of is a positive when it converted
    within var label_window_days after as_of. Used by every model that labels a snapshot. -#}

{% macro leadscore_label_window_end(as_of) -%}
    {#- The end of the label window that starts at as_of (exclusive). -#}
    {{ dbt.dateadd('day', var('label_window_days'), as_of) }}
{%- endmacro %}

{% macro leadscore_was_open_at(converted_at, as_of) -%}
    {#- The lead had not converted yet at as_of: there was something to predict. -#}
    ({{ converted_at }} is null or {{ converted_at }} >= {{ as_of }})
{%- endmacro %}

{% macro leadscore_converted_within_window(converted_at, as_of) -%}
    {#- 1 when the conversion falls within the label window after as_of, else 0 (never NULL). -#}
    cast(coalesce({{ converted_at }} < {{ leadscore_label_window_end(as_of) }}, false) as integer)
{%- endmacro %}

{% macro leadscore_has_matured(as_of) -%}
    {#- The whole label window after as_of lies before the build's as_of: the label is final. -#}
    ({{ leadscore_label_window_end(as_of) }} <= {{ leadscore_as_of() }})
{%- endmacro %}
