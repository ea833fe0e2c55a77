{#- The fairness check: AUC and calibration per segment (var segment_attributes) next to the
    whole population of the same snapshot. A segment is flagged when its AUC is more than var
    segment_auc_gap below the overall AUC or its ECE more than var segment_ece_gap above the
    overall ECE, provided it has at least var evaluation_min_positives conversions and
    non-conversions (fewer are too noisy to judge). #}
{%- set keys = ['model_version', 'as_of', 'segment_name', 'segment_value'] %}

with matured as (
    select * from {{ ref('int_lead_scores_matured') }}
),

segmented as (
    {{ leadscore_segment_rows('matured') }}
),

auc as (
    {{ leadscore_auc('segmented', 'label', 'probability', keys) }}
),

brier as (
    {{ leadscore_brier('segmented', 'label', 'probability', keys) }}
),

ece as (
    {{ leadscore_ece('segmented', 'label', 'probability', keys) }}
),

metrics as (
    select
        auc.model_version,
        auc.as_of,
        auc.segment_name,
        auc.segment_value,
        auc.n,
        auc.positives,
        brier.observed_rate,
        brier.mean_predicted,
        auc.auc,
        brier.brier,
        ece.ece
    from auc
    inner join brier using (model_version, as_of, segment_name, segment_value)
    inner join ece using (model_version, as_of, segment_name, segment_value)
),

compared as (
    select
        segments.model_version,
        segments.as_of,
        segments.segment_name,
        segments.segment_value,
        segments.n,
        segments.positives,
        segments.observed_rate,
        segments.mean_predicted,
        segments.auc,
        segments.brier,
        segments.ece,
        overall.auc as overall_auc,
        overall.ece as overall_ece,
        overall.auc - segments.auc as auc_gap,
        segments.ece - overall.ece as ece_gap,
        segments.positives >= {{ var('evaluation_min_positives') }}
        and segments.n - segments.positives >= {{ var('evaluation_min_positives') }}
            as has_enough_outcomes
    from metrics as segments
    inner join metrics as overall
        on
            segments.model_version = overall.model_version
            and segments.as_of = overall.as_of
            and overall.segment_name = 'overall'
    where segments.segment_name != 'overall'
),

flagged as (
    select
        *,
        coalesce(
            has_enough_outcomes
            and (auc_gap > {{ var('segment_auc_gap') }} or ece_gap > {{ var('segment_ece_gap') }}),
            false
        ) as is_flagged,
        case
            when not has_enough_outcomes then 'too few outcomes to judge'
            when auc_gap > {{ var('segment_auc_gap') }} and ece_gap > {{ var('segment_ece_gap') }}
                then 'AUC ' || round(auc_gap, 3) || ' below overall; ECE '
                    || round(ece_gap, 3) || ' above overall'
            when auc_gap > {{ var('segment_auc_gap') }}
                then 'AUC ' || round(auc_gap, 3) || ' below overall'
            when ece_gap > {{ var('segment_ece_gap') }}
                then 'ECE ' || round(ece_gap, 3) || ' above overall'
        end as flag_reason
    from compared
)

select * from flagged
