{#- Features at a series of past monthly cutoffs, each row labelled with whether the lead
    converted within var('label_window_days') days after its cutoff. Only cutoffs whose label
    window has fully passed by as_of are used; leads converted before a cutoff are left out of it.
    A flat export (no created_at) has one row per lead at as_of, labelled by var('label_column'). #}
-- depends_on: {{ ref('rule_based_points') }}

with leads as (
    select * from {{ ref('stg_raw__leads') }}
),

conversions as (
    select * from {{ ref('stg_raw__conversions') }}
),

{% if var('created_at_column') -%}
cutoffs as (
    select cutoff as as_of
    from (
        select
            unnest(generate_series(
                date_trunc('month', min(created_at)) + interval 1 month,
                {{ leadscore_as_of() }} - interval {{ var('label_window_days') }} day,
                interval 1 month
            )) as cutoff,
        from leads
    )
    qualify row_number() over (order by cutoff desc) <= {{ var('max_training_cutoffs') }}
),

spine as (
    select
        leads.*,
        cutoffs.as_of,
        conversions.converted_at,
    from leads
    cross join cutoffs
    left join conversions on leads.lead_id = conversions.lead_id
    where
        leads.created_at < cutoffs.as_of
        and (conversions.converted_at is null or conversions.converted_at >= cutoffs.as_of)
),

labelled as (
    select
        lead_id,
        as_of,
        coalesce(
            converted_at < as_of + interval {{ var('label_window_days') }} day, false
        )::integer as label,
    from spine
),
{%- else -%}
spine as (
    select
        leads.*,
        {{ leadscore_as_of() }} as as_of,
    from leads
),

labelled as (
    select
        lead_id,
        as_of,
        label,
    from spine
),
{%- endif %}

features as (
    {{ leadscore_features('spine', ref('int_lead_events_sessionized')) }}
),

final as (
    select
        features.*,
        {{ leadscore_rule_based_score('features') }} as rule_based_score,
        labelled.label,
    from features
    inner join labelled
        on
            features.lead_id = labelled.lead_id
            and features.as_of = labelled.as_of
)

select * from final
