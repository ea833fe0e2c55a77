{#- The same leads scored side by side by the champion (the model behind lead_scores) and a
    challenger: var challenger_version, else the newest other registered version with the same
    feature schema. No challenger: an empty table with the same columns. A table, never a
    view: the scoring function exists only on the dbt connection. #}
{%- set champion = leadscore_model() %}
{%- set challenger = leadscore_challenger(champion) %}
{%- set challenger_version = challenger.version if challenger else '' %}

with lead_features as (
    select * from {{ ref('lead_features') }}
),

lead_scores as (
    select * from {{ ref('lead_scores') }}
),

{% if challenger -%}
challenger as (
    select
        cast(lead_id as varchar) as lead_id,
        leadscore_score(
            '{{ challenger.version }}', {{ leadscore_feature_vector(challenger) }}
        ) as conversion_probability
    from lead_features
),
{% else -%}
challenger as (
    select
        cast(lead_id as varchar) as lead_id,
        cast(null as double) as conversion_probability
    from lead_features
    where false
),
{%- endif %}

side_by_side as (
    select
        lead_scores.lead_id,
        lead_scores.as_of,
        lead_scores.model_version as champion_version,
        lead_scores.conversion_probability as champion_probability,
        lead_scores.tier as champion_tier,
        '{{ challenger_version }}' as challenger_version,
        challenger.conversion_probability as challenger_probability,
        cast(round(100 * challenger.conversion_probability) as integer) as challenger_score,
        {{ leadscore_tier('challenger.conversion_probability') }} as challenger_tier,
        challenger.conversion_probability - lead_scores.conversion_probability
            as probability_difference,
        lead_scores.scored_at
    from lead_scores
    inner join challenger on lead_scores.lead_id = challenger.lead_id
)

select * from side_by_side
