{#- Lift and cumulative gain on matured outcomes: per model version and snapshot, leads ranked by
    probability and cut into deciles (1 = the highest-scored tenth): each decile's conversion
    rate over the overall rate, and the share of all conversions found by calling the leads of
    this decile and the ones above it. #}

with matured as (
    select * from {{ ref('int_lead_scores_matured') }}
),

lift as (
    {{ leadscore_lift('matured', 'label', 'probability', ['model_version', 'as_of'], 'lead_id') }}
),

final as (
    select
        model_version,
        as_of,
        bucket as decile,
        n,
        positives,
        mean_predicted,
        min_score as min_probability,
        conversion_rate,
        lift,
        cumulative_share_of_leads,
        cumulative_gain,
        cumulative_lift
    from lift
)

select * from final
