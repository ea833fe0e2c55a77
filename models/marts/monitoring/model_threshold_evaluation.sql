{#- Precision and recall at each tier threshold (var tier_thresholds) on matured outcomes, for
    the whole population and per segment: "of the leads at or above B, how many converted, and
    which share of all conversions were they?" #}

with matured as (
    select * from {{ ref('int_lead_scores_matured') }}
),

segmented as (
    {{ leadscore_segment_rows('matured') }}
),

thresholds as (
    {{ leadscore_threshold_metrics(
        'segmented', 'label', 'probability',
        ['model_version', 'as_of', 'segment_name', 'segment_value']) }}
)

select * from thresholds
