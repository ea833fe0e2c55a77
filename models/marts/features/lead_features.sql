{#- Features of every lead as of the build's point in time (var('as_of'), default: now).

    Incremental: each row keeps lead_fingerprint, a hash of everything the row is computed from
    (the lead's row, its conversion, its timeline's fingerprint, as_of, the feature definitions
    and settings). A run recomputes only the leads whose fingerprint changed or that are new and
    deletes the leads that left the spine (macros/incremental.sql). A different as_of changes
    every fingerprint, so every lead is recomputed: incremental runs pay off with a fixed as_of
    (e.g. --vars as_of per day).
    `--full-refresh` rebuilds the table from scratch. #}
-- depends_on: {{ ref('rule_based_points') }}
{{ config(
    materialized='incremental',
    unique_key='lead_id',
    incremental_strategy='delete+insert',
    on_schema_change='sync_all_columns',
    post_hook=(
        "{{ leadscore_delete_keys_not_in(ref('stg_raw__leads'), "
        "'created_at is null or created_at <= ' ~ leadscore_as_of()) }}"
    ),
) }}
{%- set timeline = ref('int_lead_events_sessionized') %}
{%- set features_sql = leadscore_features('spine', timeline) %}
{%- set rule_based_score_sql = leadscore_rule_based_score('features', warn=true) %}
{%- set settings = model.raw_code ~ features_sql ~ rule_based_score_sql ~ leadscore_as_of()
    ~ '|' ~ var('label_column') %}

with leads as (
    select * from {{ ref('stg_raw__leads') }}
),

conversions as (
    select * from {{ ref('stg_raw__conversions') }}
),

timeline as (
    select * from {{ timeline }}
),

timeline_fingerprints as (
    select
        lead_id,
        any_value(lead_fingerprint) as timeline_fingerprint
    from timeline
    group by lead_id
),

candidates as (
    select
        leads.*,
        {{ leadscore_as_of() }} as as_of,
        {{ leadscore_fingerprint(settings, [
            leadscore.row_value('leads'),
            leadscore.row_value('conversions'),
            'timeline_fingerprints.timeline_fingerprint',
        ]) }} as lead_fingerprint
    from leads
    left join conversions on leads.lead_id = conversions.lead_id
    left join timeline_fingerprints on leads.lead_id = timeline_fingerprints.lead_id
    where leads.created_at is null or leads.created_at <= {{ leadscore_as_of() }}
),

spine as (
    -- the leads to compute: all of them, or in an incremental run the changed and new ones
    {{ leadscore_changed_only('candidates', 'lead_fingerprint') }}
),

features as (
    {{ features_sql }}
),

final as (
    select
        features.*,
        {{ rule_based_score_sql }} as rule_based_score,
        {% if var('label_column') -%}
        coalesce(spine.label = 1, false) as is_converted,
        {%- else -%}
        conversions.lead_id is not null as is_converted,
        {%- endif %}
        spine.lead_fingerprint
    from features
    inner join spine on features.lead_id = spine.lead_id
    left join conversions on features.lead_id = conversions.lead_id
)

select * from final
