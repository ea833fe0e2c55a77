{#- Calibrated conversion probability for every lead in lead_features, computed in the
    warehouse by the leadscore_score UDF (onnxruntime). A table, never a view: the UDF exists
    only on the dbt connection. The build stops before writing when no usable model exists. #}
{{ config(materialized='table', tags=['scoring'], contract={'enforced': true}) }}
{%- set model = leadscore_model() %}

with lead_features as (
    select * from {{ ref('lead_features') }}
),

vectors as (
    select
        lead_id,
        as_of,
        {{ leadscore_feature_vector(model) }} as feature_vector,
        {{ leadscore_score_status(model) }} as score_status,
    from lead_features
),

scored as (
    select
        *,
        leadscore_score('{{ model.version }}', feature_vector) as conversion_probability,
    from vectors
),

final as (
    select
        cast(lead_id as varchar) as lead_id,
        conversion_probability,
        cast(round(100 * conversion_probability) as integer) as score,
        {{ leadscore_tier('conversion_probability') }} as tier,
        '{{ model.version }}' as model_version,
        '{{ model.feature_schema_hash }}' as feature_schema_hash,
        as_of,
        cast('{{ run_started_at.strftime("%Y-%m-%d %H:%M:%S") }}' as timestamp) as scored_at,
        score_status,
    from scored
)

select * from final
