{#- The calibration curve on matured outcomes: per model version, snapshot and equal-width
    probability bin (tenths), the mean predicted probability next to the observed conversion
    rate. A calibrated model keeps the two close: of leads scored 0.30, about 30% converted. #}

with matured as (
    select * from {{ ref('int_lead_scores_matured') }}
),

bins as (
    {{ leadscore_reliability_bins('matured', 'label', 'probability', ['model_version', 'as_of']) }}
)

select * from bins
