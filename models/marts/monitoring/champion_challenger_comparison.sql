{#- Champion against challenger (the two versions of challenger_scores), on two grounds:
    'current': how far they agree on today's leads (Spearman rank correlation of the
    probabilities, share of leads given the same tier, mean absolute difference);
    'matured': for every past snapshot where both scored the same leads and the outcomes have
    matured, AUC, Brier and ECE of each on exactly those leads. No challenger: no rows. #}
{%- set keys = ['model_version', 'as_of'] %}

with challenger_scores as (
    select * from {{ ref('challenger_scores') }}
),

matured as (
    select * from {{ ref('int_lead_scores_matured') }}
),

pair as (
    select distinct
        champion_version,
        challenger_version
    from challenger_scores
),

current_ranked as (
    select
        *,
        -- average ranks, so tied probabilities do not bias the rank correlation
        rank() over (order by champion_probability nulls last)
        + (count(*) over (partition by champion_probability) - 1) / 2 as champion_rank,
        rank() over (order by challenger_probability nulls last)
        + (count(*) over (partition by challenger_probability) - 1) / 2 as challenger_rank
    from challenger_scores
),

current_agreement as (
    select
        'current' as basis,
        max(as_of) as as_of,
        count(*) as n,
        cast(null as bigint) as positives,
        corr(champion_rank, challenger_rank) as rank_correlation,
        avg(cast(champion_tier = challenger_tier as double)) as tier_agreement,
        avg(abs(probability_difference)) as mean_abs_probability_difference,
        cast(null as double) as champion_auc,
        cast(null as double) as challenger_auc,
        cast(null as double) as champion_brier,
        cast(null as double) as challenger_brier,
        cast(null as double) as champion_ece,
        cast(null as double) as challenger_ece
    from current_ranked
),

both_scored as (
    -- the matured leads of snapshots where both versions scored the lead
    select matured.*
    from matured
    inner join pair on matured.model_version in (pair.champion_version, pair.challenger_version)
    qualify count(*) over (partition by matured.as_of, matured.lead_id) = 2
),

auc as (
    {{ leadscore_auc('both_scored', 'label', 'probability', keys) }}
),

brier as (
    {{ leadscore_brier('both_scored', 'label', 'probability', keys) }}
),

ece as (
    {{ leadscore_ece('both_scored', 'label', 'probability', keys) }}
),

matured_metrics as (
    select
        auc.model_version,
        auc.as_of,
        auc.n,
        auc.positives,
        auc.auc,
        brier.brier,
        ece.ece
    from auc
    inner join brier using (model_version, as_of)
    inner join ece using (model_version, as_of)
),

matured_comparison as (
    select
        'matured' as basis,
        champion.as_of,
        champion.n,
        champion.positives,
        cast(null as double) as rank_correlation,
        cast(null as double) as tier_agreement,
        cast(null as double) as mean_abs_probability_difference,
        champion.auc as champion_auc,
        challenger.auc as challenger_auc,
        champion.brier as champion_brier,
        challenger.brier as challenger_brier,
        champion.ece as champion_ece,
        challenger.ece as challenger_ece
    from pair
    inner join matured_metrics as champion on pair.champion_version = champion.model_version
    inner join matured_metrics as challenger
        on
            pair.challenger_version = challenger.model_version
            and champion.as_of = challenger.as_of
),

compared as (
    -- the same columns in the same order: each basis leaves the other's measures NULL
    select * from current_agreement
    where n > 0
    union all
    select * from matured_comparison
),

final as (
    select
        pair.champion_version,
        pair.challenger_version,
        compared.basis,
        compared.as_of,
        compared.n,
        compared.positives,
        compared.champion_auc,
        compared.challenger_auc,
        compared.challenger_auc - compared.champion_auc as auc_difference,
        compared.champion_brier,
        compared.challenger_brier,
        compared.challenger_brier - compared.champion_brier as brier_difference,
        compared.champion_ece,
        compared.challenger_ece,
        compared.rank_correlation,
        compared.tier_agreement,
        compared.mean_abs_probability_difference
    from pair
    cross join compared
)

select * from final
