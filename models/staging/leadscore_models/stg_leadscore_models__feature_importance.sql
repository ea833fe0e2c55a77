{#- Global feature importance per model version (gain, splits, mean |SHAP|). #}

with model_feature_importance as (
    {{ leadscore_registry_table('model_feature_importance', [
        ['model_version', 'varchar'],
        ['feature', 'varchar'],
        ['gain', 'double'],
        ['splits', 'bigint'],
        ['mean_abs_shap', 'double'],
        ['importance_rank', 'integer'],
    ]) }}
),

renamed as (
    select
        model_version,
        feature,
        gain,
        splits,
        mean_abs_shap,
        importance_rank
    from model_feature_importance
)

select * from renamed
