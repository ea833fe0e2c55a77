{#- The label rule, once: a lead scored (or cut off) at as_of is a positive when it converted
    within var label_window_days after as_of; a lead that had converted before as_of is left
    out (there was nothing to predict). Only as_of whose whole window has passed has a final
    label. Used by every model that labels a snapshot or a training cutoff. -#}

{% macro leadscore_label_window_end(as_of) -%}
    {#- The end of the label window that starts at as_of (exclusive). -#}
    {{ leadscore.add_days(as_of, var('label_window_days')) }}
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

{% macro leadscore_last_matured_cutoff(data_end) -%}
    {#- The last cutoff whose whole label window lies before data_end (the last moment the
        data knows of) or the build's as_of, whichever is earlier: later cutoffs' labels are
        not final yet. -#}
    {{ leadscore.add_days(
        'least(' ~ data_end ~ ', ' ~ leadscore_as_of() ~ ')', -var('label_window_days')
    ) }}
{%- endmacro %}

{% macro leadscore_label_window_elapsed_share(as_of) -%}
    {#- How much of the label window after as_of has passed by the build's as_of, 0 to 1. -#}
    least(date_diff('day', {{ as_of }}, {{ leadscore_as_of() }}) / {{ var('label_window_days') }}, 1)
{%- endmacro %}
