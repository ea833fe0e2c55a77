{#- Every challenger score every build wrote (the challenger's counterpart of
    lead_score_history), so champion and challenger can be compared on the same leads once
    their outcomes have matured. Never wiped by --full-refresh. #}
{{ config(
    materialized='incremental',
    unique_key=['lead_id', 'as_of', 'model_version'],
    incremental_strategy='delete+insert',
    on_schema_change='append_new_columns',
    full_refresh=false,
) }}

with challenger_scores as (
    select * from {{ ref('challenger_scores') }}
),

snapshot as (
    select
        lead_id,
        as_of,
        challenger_version as model_version,
        challenger_probability as conversion_probability,
        challenger_score as score,
        challenger_tier as tier,
        scored_at
    from challenger_scores
)

select * from snapshot
