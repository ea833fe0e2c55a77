{#- Every score every build wrote: one row per lead, as_of and model version, appended by each
    build after lead_scores. Rebuilding the same as_of with the same model replaces its rows
    (no duplicates); other snapshots stay. History cannot be recomputed, so --full-refresh does
    not wipe it (full_refresh=false); drop the table by hand to start over. #}
{{ config(
    materialized='incremental',
    unique_key=['lead_id', 'as_of', 'model_version'],
    incremental_strategy='delete+insert',
    on_schema_change='append_new_columns',
    full_refresh=false,
    contract={'enforced': true},
) }}

with lead_scores as (
    select * from {{ ref('lead_scores') }}
),

snapshot as (
    select
        lead_id,
        as_of,
        model_version,
        conversion_probability,
        score,
        tier,
        scored_at
    from lead_scores
)

select * from snapshot
