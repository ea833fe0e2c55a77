{#- Calibrated conversion probability for every lead in lead_features, computed in the
    warehouse by the leadscore_score UDF (onnxruntime), with the reasons behind it: exact
    TreeSHAP contributions of the same model version (leadscore_contributions). A table, never
    a view: the UDFs exist only on the dbt connection. The build stops before writing anything
    when no usable model exists or its features do not match lead_features.

    Incremental: score_fingerprint hashes the lead's lead_fingerprint (the inputs of its row of
    lead_features) with the model and the scoring settings; a run scores only the leads whose
    fingerprint changed or that are new (a kept row keeps the scored_at of the run that scored
    it) and deletes the leads that left lead_features. Replacing a model version's files in
    place needs `--full-refresh`. #}
{{ config(
    materialized='incremental',
    unique_key='lead_id',
    incremental_strategy='delete+insert',
    on_schema_change='append_new_columns',
    tags=['scoring'],
    contract={'enforced': true},
    post_hook=(
        "{% if is_incremental() %}delete from {{ this }} where lead_id not in "
        "(select lead_id from {{ ref('lead_features') }}){% endif %}"
    ),
) }}
{#- incremental: the table exists with its fingerprints (a table built before they existed is
    rebuilt whole; on_schema_change adds the column) #}
{%- set incremental = is_incremental() and 'score_fingerprint' in (
    adapter.get_columns_in_relation(this) | map(attribute='name') | list
) %}
{%- set code_hash = local_md5(model.raw_code) %}
{#- a lead_features built before it had fingerprints: the whole row stands in #}
{%- set features_fingerprint = 'lead_fingerprint' if not execute or 'lead_fingerprint' in (
    adapter.get_columns_in_relation(ref('lead_features')) | map(attribute='name') | list
) else 'lead_features' %}
{%- set model = leadscore_model() %}
{%- set names = [] %}
{%- for feature in model.features %}{% do names.append(feature.name) %}{% endfor %}
{%- set settings_hash = local_md5(
    code_hash ~ tojson(model) ~ leadscore_feature_vector(model) ~ leadscore_display_values(model)
    ~ leadscore_score_status(model) ~ leadscore_tier('p')
    ~ leadscore_feature_positions(model, true) ~ leadscore_feature_positions(model, false)
) %}

with lead_features as (
    select * from {{ ref('lead_features') }}
),

reason_templates as (
    select * from {{ ref('reason_templates') }}
),

{% if incremental -%}
scored_before as (
    select * from {{ this }}
),

{% endif -%}
fingerprinted as (
    select
        *,
        hash(
            '{{ settings_hash }}',
            (select bit_xor(hash(reason_templates)) from reason_templates),
            {{ features_fingerprint }}
        ) as score_fingerprint,
    from lead_features
),

to_score as (
    -- every lead, or in an incremental run the leads whose features or scoring settings changed
    select fingerprinted.*
    from fingerprinted
    {%- if incremental %}
    anti join scored_before
        on
            fingerprinted.lead_id = scored_before.lead_id
            and fingerprinted.score_fingerprint = scored_before.score_fingerprint
    {%- endif %}
),

vectors as (
    select
        lead_id,
        as_of,
        score_fingerprint,
        is_converted,
        {{ leadscore_feature_vector(model) }} as feature_vector,
        {{ leadscore_display_values(model) }} as feature_values,
        {{ leadscore_score_status(model) }} as score_status,
    from to_score
),

scored as materialized (
    select
        *,
        leadscore_score('{{ model.version }}', feature_vector) as conversion_probability,
        leadscore_contributions('{{ model.version }}', feature_vector) as contributions,
    from vectors
),

factors as (
    select
        lead_id,
        unnest({{ leadscore_sql_list(names) }}) as feature,
        unnest(feature_values) as feature_value,
        unnest(contributions[1:{{ names | length }}]) as contribution,
    from scored
),

strongest as (
    -- the five strongest pushes up and the five strongest pushes down
    select
        *,
        case when contribution > 0 then 'positive' else 'negative' end as direction,
    from factors
    where contribution != 0
    qualify row_number() over (
        partition by lead_id, contribution > 0 order by abs(contribution) desc, feature
    ) <= 5
),

explained as (
    select
        strongest.*,
        coalesce(
            replace(reason_templates.template, '{value}', strongest.feature_value),
            strongest.feature || ' = ' || strongest.feature_value
        ) as reason,
    from strongest
    left join reason_templates
        on
            strongest.feature = reason_templates.feature
            and reason_templates.direction in (strongest.direction, 'any')
    qualify row_number() over (
        partition by strongest.lead_id, strongest.feature
        order by reason_templates.direction = 'any'
    ) = 1
),

top_factors as (
    select
        lead_id,
        to_json(list(
            {
                'feature': feature,
                'value': feature_value,
                'contribution': round(contribution, 4),
                'reason': reason,
            }
            order by contribution desc
        )) as top_factors,
        string_agg(reason, '; ' order by contribution desc) filter (where contribution > 0)
            as top_reasons,
    from explained
    group by lead_id
),

final as (
    select
        cast(scored.lead_id as varchar) as lead_id,
        scored.conversion_probability,
        cast(round(100 * scored.conversion_probability) as integer) as score,
        {{ leadscore_tier('scored.conversion_probability') }} as tier,
        {{ leadscore_partial_score('scored.contributions', leadscore_feature_positions(model, true)) }}
            as fit_score,
        {{ leadscore_partial_score('scored.contributions', leadscore_feature_positions(model, false)) }}
            as engagement_score,
        coalesce(top_factors.top_factors, cast('[]' as json)) as top_factors,
        top_factors.top_reasons,
        '{{ model.version }}' as model_version,
        '{{ model.feature_schema_hash }}' as feature_schema_hash,
        scored.as_of,
        cast('{{ run_started_at.strftime("%Y-%m-%d %H:%M:%S") }}' as timestamp) as scored_at,
        scored.score_status,
        scored.is_converted,
        scored.score_fingerprint,
    from scored
    left join top_factors on scored.lead_id = top_factors.lead_id
)

select * from final
