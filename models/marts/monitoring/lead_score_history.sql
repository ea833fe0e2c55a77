{#- Every score every build wrote, served or not: one row per lead, as_of, model version and
    scored_as ('served': the champion's score in lead_scores; 'challenger': the challenger's
    score of the same leads, challenger_scores), appended by each build. Rebuilding the same
    as_of with the same models replaces its rows (no duplicates); other snapshots stay. History
    cannot be recomputed, so --full-refresh does not wipe it (full_refresh=false); drop the
    table by hand to start over. On Spark, which has no delete+insert for Parquet tables, the
    table is partitioned by as_of and a build overwrites the partition of its own as_of. #}
{%- set on_spark = target.type == 'spark' %}
{{ config(
    materialized='incremental',
    unique_key=['lead_id', 'as_of', 'model_version', 'scored_as'],
    incremental_strategy='insert_overwrite' if on_spark else 'delete+insert',
    partition_by=['as_of'] if on_spark else none,
    on_schema_change='append_new_columns',
    full_refresh=false,
    contract={'enforced': true},
) }}

with lead_scores as (
    select * from {{ ref('lead_scores') }}
),

challenger_scores as (
    select * from {{ ref('challenger_scores') }}
),

served as (
    select
        lead_id,
        as_of,
        model_version,
        'served' as scored_as,
        conversion_probability,
        score,
        tier,
        scored_at
    from lead_scores
),

challenger as (
    select
        lead_id,
        as_of,
        challenger_version as model_version,
        'challenger' as scored_as,
        challenger_probability as conversion_probability,
        challenger_score as score,
        challenger_tier as tier,
        scored_at
    from challenger_scores
    where challenger_probability is not null
),

snapshot as (
    select * from served
    union all
    select * from challenger
)

select * from snapshot
