{#- Drift of every model input and of the score: the population stability index (PSI) of the
    current open leads against the training distribution of the model behind lead_scores,
    with the feature's global importance. Tests warn above var psi_warn and fail the build
    above var psi_error. #}

with feature_drift_bins as (
    select * from {{ ref('feature_drift_bins') }}
),

feature_importance as (
    select * from {{ ref('stg_leadscore_models__feature_importance') }}
),

psi as (
    {{ leadscore_psi('feature_drift_bins', ['model_version', 'feature']) }}
),

summarised as (
    select
        model_version,
        feature,
        count(*) filter (where bin >= 0) as bins,
        sum(current_count) as current_leads,
        sum(reference_share) filter (where bin = -1) as reference_null_share,
        sum(current_share) filter (where bin = -1) as current_null_share,
        case
            when max(abs(psi_contribution)) > 0
                then first(bin order by abs(psi_contribution) desc, bin)
        end as most_shifted_bin
    from feature_drift_bins
    group by model_version, feature
),

final as (
    select
        psi.model_version,
        psi.feature,
        psi.psi,
        case
            when psi.psi > {{ var('psi_error') }} then 'large shift'
            when psi.psi > {{ var('psi_warn') }} then 'moderate shift'
            else 'stable'
        end as drift_status,
        summarised.bins,
        summarised.current_leads,
        summarised.reference_null_share,
        summarised.current_null_share,
        summarised.most_shifted_bin,
        feature_importance.importance_rank,
        feature_importance.mean_abs_shap,
        {{ leadscore_as_of() }} as as_of
    from psi
    inner join summarised using (model_version, feature)
    left join feature_importance
        on
            psi.model_version = feature_importance.model_version
            and psi.feature = feature_importance.feature
)

select * from final
