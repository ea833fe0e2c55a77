{#- How good each model version's scores turned out to be, once their outcomes matured: one row
    per model version and snapshot (as_of) with ranking (AUC), calibration (Brier, ECE) and the
    top-decile lift, next to the AUC the version had on its test fold at training. #}
{%- set keys = ['model_version', 'as_of'] %}

with matured as (
    select * from {{ ref('int_lead_scores_matured') }}
),

model_registry as (
    select * from {{ ref('stg_leadscore_models__model_registry') }}
),

snapshots as (
    select
        model_version,
        as_of,
        min(matured_at) as matured_at,
        bool_or(scored_as = 'served') as was_served
    from matured
    group by model_version, as_of
),

auc as (
    {{ leadscore_auc('matured', 'label', 'probability', keys) }}
),

brier as (
    {{ leadscore_brier('matured', 'label', 'probability', keys) }}
),

ece as (
    {{ leadscore_ece('matured', 'label', 'probability', keys) }}
),

lift as (
    {{ leadscore_lift('matured', 'label', 'probability', keys) }}
),

evaluated as (
    select
        snapshots.model_version,
        snapshots.as_of,
        snapshots.matured_at,
        snapshots.was_served,
        auc.n,
        auc.positives,
        brier.observed_rate as positive_rate,
        brier.mean_predicted,
        auc.auc,
        brier.brier,
        ece.ece,
        lift.lift as top_decile_lift,
        model_registry.test_auc,
        model_registry.test_auc - auc.auc as auc_drop,
        model_registry.test_ece
    from snapshots
    inner join auc using (model_version, as_of)
    inner join brier using (model_version, as_of)
    inner join ece using (model_version, as_of)
    left join lift
        on
            snapshots.model_version = lift.model_version
            and snapshots.as_of = lift.as_of
            and lift.bucket = 1
    left join model_registry on snapshots.model_version = model_registry.model_version
)

select * from evaluated
