{#- One row per trained model version, from the registry the training run writes. #}

with model_registry as (
    {{ leadscore_registry_table('model_registry', [
        ['model_version', 'varchar'],
        ['created_at', 'timestamp'],
        ['is_champion', 'boolean'],
        ['feature_schema_hash', 'varchar'],
        ['calibration_method', 'varchar'],
        ['training_rows', 'bigint'],
        ['test_auc', 'double'],
        ['test_pr_auc', 'double'],
        ['test_brier', 'double'],
        ['test_ece', 'double'],
        ['test_top_decile_lift', 'double'],
        ['rule_based_auc', 'double'],
    ]) }}
),

renamed as (
    select
        model_version,
        created_at,
        coalesce(is_champion, false) as is_champion,
        feature_schema_hash,
        calibration_method,
        training_rows,
        test_auc,
        test_pr_auc,
        test_brier,
        test_ece,
        test_top_decile_lift,
        rule_based_auc
    from model_registry
)

select * from renamed
