{#- Calibrated conversion probability for every lead in lead_features, computed in the
    warehouse by the leadscore_score UDF (onnxruntime), with the reasons behind it: exact
    TreeSHAP contributions of the same model version (leadscore_contributions). A table, never
    a view: the UDFs exist only on the dbt connection. The build stops before writing anything
    when no usable model exists or its features do not match lead_features.

    Incremental: score_fingerprint hashes the lead's lead_fingerprint (the inputs of its row of
    lead_features) with the model and the scoring settings; a run scores only the leads whose
    fingerprint changed or that are new (a kept row keeps the scored_at of the run that scored
    it) and deletes the leads that left lead_features (macros/incremental.sql). Replacing a
    model version's files in place needs `--full-refresh`. #}
{{ config(
    materialized='incremental',
    unique_key='lead_id',
    incremental_strategy='delete+insert',
    on_schema_change='append_new_columns',
    contract={'enforced': true},
    post_hook="{{ leadscore_delete_keys_not_in(ref('lead_features')) }}",
) }}
{%- set code = model.raw_code %}
{#- a lead_features built before it had fingerprints: the whole row stands in #}
{%- set features_fingerprint = 'lead_fingerprint' if leadscore_compiles_only()
    or 'lead_fingerprint' in (
    adapter.get_columns_in_relation(ref('lead_features')) | map(attribute='name') | list
) else 'lead_features' %}
{%- set model = leadscore_model() %}
{%- set settings = code ~ tojson(model) ~ leadscore_feature_vector(model)
    ~ leadscore_category_values(model) ~ leadscore_score_status(model) ~ leadscore_tier('p')
    ~ leadscore_feature_positions(model, true) ~ leadscore_feature_positions(model, false) %}

{%- set fit_positions = leadscore_feature_positions(model, true) %}
{%- set engagement_positions = leadscore_feature_positions(model, false) %}

with lead_features as (
    select * from {{ ref('lead_features') }}
),

reason_templates as (
    select * from {{ ref('reason_templates') }}
),

fingerprinted as (
    select
        *,
        {{ leadscore_fingerprint(settings, [
            '(select ' ~ leadscore_rows_fingerprint('reason_templates') ~ ' from reason_templates)',
            features_fingerprint,
        ]) }} as score_fingerprint
    from lead_features
),

to_score as (
    -- every lead, or in an incremental run the leads whose features or scoring settings changed
    {{ leadscore_changed_only('fingerprinted', 'score_fingerprint') }}
),

vectors as (
    select
        lead_id,
        as_of,
        score_fingerprint,
        is_converted,
        {{ leadscore_feature_vector(model) }} as feature_vector,
        {{ leadscore_category_values(model) }} as category_values,
        {{ leadscore_score_status(model) }} as score_status
    from to_score
),

scored as (
    select
        *,
        leadscore_score(
            '{{ model.version }}', feature_vector
        ) as conversion_probability,
        leadscore_contributions(
            '{{ model.version }}', feature_vector
        ) as contributions
    from vectors
),

explained as (
    -- the strongest factors, each with a reason in words (leadscore.reasons)
    select
        scored.*,
        leadscore_explain(
            '{{ model.version }}',
            scored.feature_vector,
            scored.category_values,
            scored.contributions,
            (
                select {{ leadscore.json_array_agg(['feature', 'direction', 'template']) }}
                from reason_templates
            ),
            {{ leadscore_sql_list(
                leadscore_categorical_features() + leadscore_numeric_features()
            ) }}
        ) as explanation
    from scored
),

top_factors as (
    select
        explained.*,
        cast(coalesce(explained.explanation.top_factors, '[]') as json) as top_factors,
        explained.explanation.top_reasons
    from explained
),

final as (
    select
        cast(top_factors.lead_id as varchar) as lead_id,
        top_factors.conversion_probability,
        cast(round(100 * top_factors.conversion_probability) as integer) as score,
        -- a converted lead is no prospect: no tier (score_status 'converted')
        case
            when not top_factors.is_converted
                then {{ leadscore_tier('top_factors.conversion_probability') }}
        end as tier,
        {{ leadscore_partial_score('top_factors.contributions', fit_positions) }} as fit_score,
        {{ leadscore_partial_score('top_factors.contributions', engagement_positions) }}
            as engagement_score,
        top_factors.top_factors,
        top_factors.top_reasons,
        '{{ model.version }}' as model_version,
        '{{ model.feature_schema_hash }}' as feature_schema_hash,
        top_factors.as_of,
        cast('{{ run_started_at.strftime("%Y-%m-%d %H:%M:%S") }}' as timestamp) as scored_at,
        top_factors.score_status,
        top_factors.is_converted,
        top_factors.score_fingerprint
    from top_factors
)

select * from final
