{#- What `leadscore sync` sends to a CRM: one row per scored lead with the fields a sales team
    acts on, a hash of them, and whether the lead may be sent as a prospect.

    The outbox proper is the rows whose payload_hash differs from the hash a destination last
    acknowledged for the lead: `leadscore sync` keeps those acknowledgements in its own state
    file (it never writes the warehouse) and compares them with this table as published after
    a fully successful build. scored_at travels with the record but is left out of the hash: a
    rebuild that gives a lead the same score, tier and reasons is not a change worth a CRM
    write. Converted leads (already converted at as_of, score_status 'converted', or present in
    the conversions input) keep a row with is_prospect false and are never sent. #}
{%- set model = leadscore_model() %}

with lead_scores as (
    select * from {{ ref('lead_scores') }}
),

lead_features as (
    select * from {{ ref('lead_features') }}
),

conversions as (
    select * from {{ ref('stg_raw__conversions') }}
),

feature_importance as (
    select * from {{ ref('stg_leadscore_models__feature_importance') }}
),

converted_leads as (
    select distinct lead_id
    from conversions
),

importance as (
    -- the model's features in input order, each weighted by its mean |SHAP| (how far it moves
    -- scores on average); no weight at all when the registry lacks this model version
    {%- set weights = [] %}
    {%- for feature in model.features %}
    {%- do weights.append(
        "coalesce(max(mean_abs_shap) filter (where feature = '" ~ feature.name ~ "'), 0)"
    ) %}
    {%- endfor %}
    select
        {{ leadscore.list_of(weights, 'double') }} as weights,
        sum(mean_abs_shap) as total_weight
    from feature_importance
    where model_version = '{{ model.version }}'
),

completeness as (
    -- which of the model's inputs this lead has (NULL is what the model treats as missing)
    {%- set known = [] %}
    {%- for feature in model.features %}
    {%- do known.append(feature.name ~ ' is not null') %}
    {%- endfor %}
    select
        lead_id,
        {{ leadscore.list_of(known, 'boolean') }} as is_known
    from lead_features
),

known_weights as (
    -- the weight of the model's inputs this lead has
    select
        completeness.lead_id,
        importance.total_weight,
        {{ leadscore.list_masked_sum('importance.weights', 'completeness.is_known') }}
            as known_weight
    from completeness
    cross join importance
),

confidence as (
    select
        lead_id,
        case
            when total_weight > 0 then round(known_weight / total_weight, 3)
        end as score_confidence
    from known_weights
),

factors as (
    -- the five strongest contributions either way, in words, strongest first
    select
        lead_scores.lead_id,
        {{ leadscore.json_strongest_reasons('lead_scores.top_factors', 5) }} as top_factors
    from lead_scores
),

records as (
    select
        lead_scores.lead_id,
        lead_scores.score,
        round(lead_scores.conversion_probability, 4) as probability,
        lead_scores.tier,
        lead_scores.scored_at,
        lead_scores.model_version,
        coalesce(factors.top_factors, []) as top_factors,
        confidence.score_confidence,
        -- neither converted at as_of, nor scored as converted, nor in the conversions input
        not coalesce(lead_scores.is_converted, false)
        and lead_scores.score_status != 'converted'
        and converted_leads.lead_id is null as is_prospect,
        lead_scores.score_fingerprint
    from lead_scores
    left join factors on lead_scores.lead_id = factors.lead_id
    left join confidence on lead_scores.lead_id = confidence.lead_id
    left join converted_leads on lead_scores.lead_id = converted_leads.lead_id
),

final as (
    select
        cast(lead_id as varchar) as lead_id,
        cast(score as integer) as score,
        cast(probability as double) as probability,
        cast(tier as varchar) as tier,
        cast(scored_at as timestamp) as scored_at,
        cast(model_version as varchar) as model_version,
        cast(top_factors as varchar[]) as top_factors,
        cast(score_confidence as double) as score_confidence,
        is_prospect,
        md5({{ leadscore.json_object([
            'lead_id',
            'score',
            'probability',
            'tier',
            'model_version',
            'top_factors',
            'score_confidence',
        ]) }}) as payload_hash,
        score_fingerprint
    from records
)

select * from final
