{#- What lead_training_set holds, said once per build (its post-hook). -#}

{% macro leadscore_training_set_summary(relation) %}
    {%- if execute and var('created_at_column') -%}
        {%- set counts = run_query(
            "select count(*), count(*) filter (where cutoff_kind = 'early'), "
            ~ "coalesce(sum(label), 0), coalesce(round(sum(sample_weight) - count(*)), 0), "
            ~ "strftime(max(as_of), '%Y-%m-%d %H:%M:%S') from " ~ relation
        ).rows[0] -%}
        {%- set ends = run_query(
            "select strftime(greatest(max(l.created_at), (select max(occurred_at) from "
            ~ ref('int_lead_events_sessionized') ~ "), (select max(converted_at) from "
            ~ ref('stg_raw__conversions') ~ ")), '%Y-%m-%d %H:%M:%S'), "
            ~ "strftime(" ~ leadscore_as_of() ~ ", '%Y-%m-%d %H:%M:%S') "
            ~ "from " ~ ref('stg_raw__leads') ~ " as l"
        ).rows[0] -%}
        {{ log(
            "lead_training_set: " ~ counts[0] ~ " (lead, cutoff) rows (" ~ counts[1]
            ~ " early, " ~ (counts[0] - counts[1]) ~ " calendar), " ~ counts[2] ~ " positive; "
            ~ counts[3] | int ~ " calendar rows of long-open leads left out (the kept ones carry "
            ~ "sample_weight); newest cutoff " ~ counts[4] ~ " (label window "
            ~ var('label_window_days') ~ " days)", info=true
        ) }}
        {%- if ends[0] is not none and ends[0] < ends[1] -%}
            {{ log(
                "lead_training_set: the data ends at " ~ ends[0] ~ ", before as_of " ~ ends[1]
                ~ "; training cutoffs follow the data. To score as of the data's end, build with "
                ~ "--vars \"{as_of: '" ~ ends[0] ~ "'}\"", info=true
            ) }}
        {%- endif -%}
    {%- endif -%}
    select 1
{% endmacro %}
