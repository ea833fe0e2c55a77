{#- Calibrated conversion probability for every lead in lead_features, computed in the
    warehouse by the leadscore_score UDF (onnxruntime), with the reasons behind it: exact
    TreeSHAP contributions of the same model version (leadscore_contributions). A table, never
    a view: the UDFs exist only on the dbt connection. The build stops before writing anything
    when no usable model exists or its features do not match lead_features. #}
{{ config(materialized='table', tags=['scoring'], contract={'enforced': true}) }}
{%- set model = leadscore_model() %}
{%- set names = [] %}
{%- for feature in model.features %}{% do names.append(feature.name) %}{% endfor %}

with lead_features as (
    select * from {{ ref('lead_features') }}
),

reason_templates as (
    select * from {{ ref('reason_templates') }}
),

vectors as (
    select
        lead_id,
        as_of,
        is_converted,
        {{ leadscore_feature_vector(model) }} as feature_vector,
        {{ leadscore_display_values(model) }} as feature_values,
        {{ leadscore_score_status(model) }} as score_status,
    from lead_features
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
    from scored
    left join top_factors on scored.lead_id = top_factors.lead_id
)

select * from final
