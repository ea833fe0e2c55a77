{#- Every raw lead row, typed, with the reason it cannot be used (NULL when it can).
    Of several rows with the same lead_id, the first usable one (earliest created_at) is kept. #}
{#- a table (dbt_project.yml): PII is hashed with leadscore_pii_salt() on the dbt connection #}
{%- set pii = var('pii_columns') -%}
{%- set categorical = var('categorical_attributes') -%}
{%- set numeric = var('numeric_attributes') -%}

with leads as (
    select
        *,
        {{ leadscore_source_row_number(source('raw', 'leads')) }} as leadscore_source_row
    from {{ source('raw', 'leads') }}
),

typed as (
    select
        leadscore_source_row as source_row_number,
        {% if var('lead_id_column') -%}
        {{ leadscore_clean_text(adapter.quote(var('lead_id_column'))) }} as lead_id,
        {%- else -%}
        -- no id column: the row's own content, hashed (the same row gets the same id every build)
        'row_' || md5({{ leadscore_raw_row_json(source('raw', 'leads')) }}::varchar) as lead_id,
        {%- endif %}
        {% if var('created_at_column') -%}
        {{ leadscore_clean_text(adapter.quote(var('created_at_column'))) }} as created_at_text,
        {{ leadscore_try_timestamp(adapter.quote(var('created_at_column'))) }} as created_at,
        {%- else -%}
        null::varchar as created_at_text,
        null::timestamp as created_at,
        {%- endif %}
        {% for column in pii -%}
        {{ leadscore_hash_pii(leadscore_clean_text(adapter.quote(column))) }}
            as {{ leadscore_ident(leadscore_slug(column) ~ '_hash') }},
        {% endfor -%}
        {% for column in categorical -%}
        {{ leadscore_clean_text(adapter.quote(column)) }}
            as {{ leadscore_ident(leadscore_slug(column)) }},
        {% endfor -%}
        {% for column in numeric -%}
        {{ leadscore_clean_text(adapter.quote(column)) }}
            as {{ leadscore_ident(leadscore_slug(column) ~ '__text') }},
        {{ leadscore_try_double(adapter.quote(column)) }}
            as {{ leadscore_ident(leadscore_slug(column)) }},
        {% endfor -%}
        {% if var('label_column') -%}
        {{ leadscore_clean_text(adapter.quote(var('label_column'))) }} as label_text,
        {{ leadscore_label_value(leadscore_clean_text(adapter.quote(var('label_column')))) }} as label,
        {% endif -%}
        {{ leadscore_raw_row_json(source('raw', 'leads'), exclude=pii) }} as raw_row
    from leads
),

checked as (
    select
        *,
        case
            when lead_id is null then 'missing lead_id'
            {% if var('created_at_column') -%}
            when created_at_text is null then 'missing created_at'
            when created_at is null then 'unparseable created_at'
            when created_at > {{ leadscore_as_of() }} then 'created_at after as_of'
            {% endif -%}
            {% for column in numeric -%}
            when {{ leadscore_ident(leadscore_slug(column) ~ '__text') }} is not null
                and {{ leadscore_ident(leadscore_slug(column)) }} is null
                then 'non-numeric {{ leadscore_slug(column) }}'
            when not isfinite({{ leadscore_ident(leadscore_slug(column)) }})
                then 'non-finite {{ leadscore_slug(column) }}'
            {% endfor -%}
            {% if var('label_column') -%}
            when label is null then 'label is not 0 or 1'
            {% endif -%}
        end as row_problem
    from typed
),

ranked as (
    select
        *,
        -- usable rows first, so a broken copy never pushes out a good one
        row_number() over (
            partition by lead_id
            order by row_problem is not null, created_at nulls last, source_row_number
        ) as lead_copy_number
    from checked
),

final as (
    select
        * exclude (row_problem),
        coalesce(
            row_problem,
            case when lead_copy_number > 1 then 'duplicate lead_id' end
        ) as reject_reason
    from ranked
)

select * from final
