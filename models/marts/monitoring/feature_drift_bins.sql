{#- The current open leads (not yet converted at as_of) put into the reference bins of the model
    behind lead_scores, one row per feature (and '__score__' for the calibrated score) and bin,
    with the training share and the current share. Values are encoded and binned exactly as
    training binned them: categories as vocabulary codes (-1 unknown), numbers rounded to
    float32 as the model sees them, NULLs in bin -1. #}
{%- set model = leadscore_model() %}
{%- set names = [] %}
{%- for feature in model.features %}{% do names.append(feature.name) %}{% endfor %}

with lead_features as (
    select * from {{ ref('lead_features') }}
),

lead_scores as (
    select * from {{ ref('lead_scores') }}
),

feature_reference as (
    select * from {{ ref('stg_leadscore_models__feature_reference') }}
    where model_version = '{{ model.version }}'
),

open_leads as (
    -- the leads a model scores for action: not yet converted. A flat export's training set
    -- holds every lead (its label is the outcome), so all of them are compared there.
    select * from lead_features
    {% if not var('label_column') %}where not is_converted{% endif %}
),

{% if names -%}
feature_values as (
    select
        '{{ model.version }}' as model_version,
        unnest({{ leadscore_sql_list(names) }}) as feature,
        unnest({{ leadscore.list_transform(
            leadscore_feature_vector(model), 'value', 'cast(cast(value as float) as double)'
        ) }}) as value
    from open_leads
),
{% else -%}
feature_values as (
    select
        cast(null as varchar) as model_version,
        cast(null as varchar) as feature,
        cast(null as double) as value
    where false
),
{%- endif %}

score_values as (
    select
        lead_scores.model_version,
        '__score__' as feature,
        lead_scores.conversion_probability as value
    from lead_scores
    inner join open_leads on lead_scores.lead_id = cast(open_leads.lead_id as varchar)
),

lead_values as (
    select * from feature_values
    union all
    select * from score_values
),

bins as (
    {{ leadscore_drift_bins('lead_values', 'feature_reference', ['model_version', 'feature']) }}
),

final as (
    select
        *,
        {{ leadscore_psi_term('reference_share', 'current_share') }} as psi_contribution
    from bins
)

select * from final
