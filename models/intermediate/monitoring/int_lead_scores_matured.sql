{#- Past scores whose outcome is now known: every snapshot in lead_score_history (served and
    challenger scores) whose label window (var label_window_days) has fully passed by as_of,
    with the outcome "converted within the window after the snapshot" (macros/labels.sql).
    Leads that had already converted at the snapshot are left out: there was nothing to
    predict. The lead's segment attributes come along for the per-segment evaluation. #}
{%- set segments = leadscore_segment_columns() %}

with lead_score_history as (
    select * from {{ ref('lead_score_history') }}
),

leads as (
    select * from {{ ref('stg_raw__leads') }}
),

conversions as (
    select * from {{ ref('stg_raw__conversions') }}
),

scores as (
    -- a version that was both a challenger and served at the same snapshot counts once
    select *
    from lead_score_history
    qualify
        row_number() over (
            partition by model_version, as_of, lead_id
            order by scored_as = 'served' desc
        ) = 1
),

matured as (
    select
        scores.model_version,
        scores.scored_as,
        scores.as_of,
        {{ leadscore_label_window_end('scores.as_of') }} as matured_at,
        scores.lead_id,
        scores.conversion_probability as probability,
        scores.tier,
        {% for segment in segments -%}
        coalesce(cast(leads.{{ leadscore_ident(segment) }} as varchar), 'missing')
            as {{ leadscore_ident(segment) }},
        {% endfor -%}
        {{ leadscore_converted_within_window('conversions.converted_at', 'scores.as_of') }}
            as label
    from scores
    left join conversions on scores.lead_id = conversions.lead_id
    left join leads on scores.lead_id = leads.lead_id
    where
        {{ leadscore_has_matured('scores.as_of') }}
        and {{ leadscore_was_open_at('conversions.converted_at', 'scores.as_of') }}
        and scores.conversion_probability is not null
)

select * from matured
