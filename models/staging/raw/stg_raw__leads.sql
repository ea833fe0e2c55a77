{#- One row per usable lead: typed attributes, PII hashed (raw PII never leaves this layer). #}

with base_leads as (
    select * from {{ ref('base_raw__leads') }}
),

usable as (
    select
        {% for column in var('pii_columns') -%}
        {{ leadscore_ident(leadscore_slug(column) ~ '_hash') }},
        {% endfor -%}
        {% for column in leadscore_categorical_features() + leadscore_numeric_features() -%}
        {{ leadscore_ident(column) }},
        {% endfor -%}
        {% if var('label_column') -%}
        label,
        {% endif -%}
        lead_id,
        created_at
    from base_leads
    where reject_reason is null
)

select * from usable
