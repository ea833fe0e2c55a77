{#- Features of every lead as of the build's point in time (var('as_of'), default: now). #}
-- depends_on: {{ ref('rule_based_points') }}

with leads as (
    select * from {{ ref('stg_raw__leads') }}
),

conversions as (
    select * from {{ ref('stg_raw__conversions') }}
),

spine as (
    select
        leads.*,
        {{ leadscore_as_of() }} as as_of,
    from leads
    where leads.created_at is null or leads.created_at <= {{ leadscore_as_of() }}
),

features as (
    {{ leadscore_features('spine', ref('int_lead_events_sessionized')) }}
),

final as (
    select
        features.*,
        {{ leadscore_rule_based_score('features') }} as rule_based_score,
        {% if var('label_column') -%}
        coalesce(spine.label = 1, false) as is_converted,
        {%- else -%}
        conversions.lead_id is not null as is_converted,
        {%- endif %}
    from features
    inner join spine on features.lead_id = spine.lead_id
    left join conversions on features.lead_id = conversions.lead_id
)

select * from final
