{#- The training distribution of every feature and of the score, per model version and bin. #}

with model_feature_reference as (
    {{ leadscore_registry_table('model_feature_reference', [
        ['model_version', 'varchar'],
        ['feature', 'varchar'],
        ['bin', 'integer'],
        ['lower_edge', 'double'],
        ['upper_edge', 'double'],
        ['reference_share', 'double'],
    ]) }}
),

renamed as (
    select
        model_version,
        feature,
        bin,
        lower_edge,
        upper_edge,
        reference_share
    from model_feature_reference
)

select * from renamed
