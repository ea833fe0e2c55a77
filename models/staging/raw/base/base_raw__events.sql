{#- Every raw event row, typed, with the reason it cannot be used (NULL when it can).

    Incremental: every row keeps a key of its raw row (its content and position in the file),
    the state of its lead that its checks read, and the settings and as_of it was checked with.
    A run types only the raw rows it has not seen, and re-checks the rows of every event_id
    that one of those rows, a removed row, a changed lead or a moved as_of touches: which copy
    of an event is kept depends only on the rows with that event_id, so the table ends up
    exactly as a full rebuild leaves it. A change of this model's code or of the vars
    null_strings and pii_columns re-types every row; a change of the typing macros (a leadscore
    upgrade) needs `--full-refresh`, which rebuilds everything. #}
{{ config(
    materialized='incremental',
    unique_key='event_id',
    incremental_strategy='delete+insert',
    on_schema_change='sync_all_columns',
    post_hook=(
        "{% if is_incremental() %}delete from {{ this }} where source_row_number is null"
        "{% endif %}"
    ),
) }}
{%- set incremental = is_incremental() %}
{#- rows per block when comparing the raw file with what was built #}
{%- set block_rows = 2048 %}
{%- set settings_hash = local_md5(
    model.raw_code ~ '|' ~ tojson(var('null_strings')) ~ '|' ~ tojson(var('pii_columns'))
) %}

with raw_events as not materialized (
    select
        *,
        {{ leadscore_source_row_number(source('raw', 'events')) }} as leadscore_source_row
    from {{ source('raw', 'events') }}
),

keyed as not materialized (
    select
        *,
        hash(raw_events) as row_key
    from raw_events
),

base_leads as (
    select * from {{ ref('base_raw__leads') }}
),

lead_states as (
    -- what an event's checks read from its lead (usable or not, and since when): a change
    -- re-checks the lead's events
    select
        lead_id,
        bool_or(reject_reason is null) as is_usable,
        any_value(created_at) filter (where reject_reason is null) as created_at
    from base_leads
    where lead_id is not null
    group by lead_id
),

{% if incremental -%}
built as not materialized (
    select
        source_row_number,
        row_key,
        event_id,
        lead_id,
        occurred_at,
        lead_state,
        settings_hash,
        checked_as_of,
    from {{ this }}
),

raw_blocks as (
    -- a fingerprint per block of rows in the file: whole blocks that are as built are skipped
    select
        leadscore_source_row // {{ block_rows }} as block,
        count(*) as n_rows,
        bit_xor(row_key) as block_key,
    from keyed
    group by all
),

built_blocks as (
    select
        source_row_number // {{ block_rows }} as block,
        count(*) as n_rows,
        bit_xor(row_key) as block_key,
    from built
    group by all
),

first_changed as (
    -- the first row of the first block that differs (appended rows: the tail of the file)
    select coalesce(min(block) * {{ block_rows }}, 9223372036854775807) as source_row_number
    from raw_blocks
    full outer join built_blocks using (block)
    where
        raw_blocks.block_key is distinct from built_blocks.block_key
        or raw_blocks.n_rows is distinct from built_blocks.n_rows
),

row_changes as (
    -- raw rows not built yet (new or edited), and built rows whose raw row is gone
    select
        raw_tail.leadscore_source_row as new_row_number,
        built_tail.event_id as removed_event_id,
    from (
        select leadscore_source_row, row_key from keyed
        where leadscore_source_row >= (select source_row_number from first_changed)
    ) as raw_tail
    full outer join (
        select source_row_number, row_key, event_id from built
        where source_row_number >= (select source_row_number from first_changed)
    ) as built_tail
        on
            raw_tail.leadscore_source_row = built_tail.source_row_number
            and raw_tail.row_key = built_tail.row_key
    where raw_tail.row_key is null or built_tail.row_key is null
),

new_rows as (
    select keyed.*
    from keyed
    semi join row_changes on keyed.leadscore_source_row = row_changes.new_row_number
),

identified_new as (
    {{ leadscore_identify_raw_events('new_rows') }}
),

stale_built as (
    -- built rows checked against a lead, settings or as_of that have since changed
    select built.event_id
    from built
    left join lead_states on built.lead_id = lead_states.lead_id
    where
        built.settings_hash != '{{ settings_hash }}'
        or built.lead_state != hash(lead_states.is_usable, lead_states.created_at)
        or (
            built.occurred_at >= least(built.checked_as_of, {{ leadscore_as_of() }})
            and built.occurred_at < greatest(built.checked_as_of, {{ leadscore_as_of() }})
        )
),

affected_events as (
    select event_id from identified_new
    union
    select removed_event_id from row_changes where removed_event_id is not null
    union
    select event_id from stale_built
),

kept_rows as (
    -- the built, unchanged rows of the affected events: checked and ranked again
    -- (joined from the affected events: as a semi join DuckDB hashed every built row)
    select distinct built.source_row_number
    from affected_events
    inner join built on affected_events.event_id = built.event_id
    anti join row_changes on built.source_row_number = row_changes.new_row_number
),

identified as (
    select * from identified_new
    union all by name
    {{ leadscore_identify_raw_events('(select keyed.* from keyed semi join kept_rows on keyed.leadscore_source_row = kept_rows.source_row_number)') }}
),
{%- else %}
identified as (
    {{ leadscore_identify_raw_events('keyed') }}
),
{%- endif %}

checked as (
    select
        identified.*,
        hash(lead_states.is_usable, lead_states.created_at) as lead_state,
        case
            when identified.lead_id is null then 'missing lead_id'
            when identified.occurred_at_text is null then 'missing occurred_at'
            when identified.occurred_at is null then 'unparseable occurred_at'
            when identified.channel is null or identified.event_type is null
                then 'missing channel or event_type'
            when identified.value_text is not null
                and (identified.value is null or not isfinite(identified.value))
                then 'non-numeric value'
            when not lead_states.is_usable then 'its lead was rejected'
            when lead_states.lead_id is null then 'unknown lead_id'
            when identified.occurred_at < lead_states.created_at then 'before the lead was created'
            when identified.occurred_at >= {{ leadscore_as_of() }} then 'after as_of'
        end as row_problem
    from identified
    left join lead_states on identified.lead_id = lead_states.lead_id
),

ranked as (
    select
        *,
        -- usable copies first, so a broken copy never pushes out a good one
        row_number() over (
            partition by event_id order by row_problem is not null, source_row_number
        ) as event_copy_number
    from checked
),

final as (
    select
        -- what staging, rejected_rows and the next incremental run read
        * exclude (
            row_problem, raw_struct, event_id_text, occurred_at_text, value_text,
            event_copy_number
        ),
        coalesce(
            row_problem,
            case when event_copy_number > 1 then 'duplicate event' end
        ) as reject_reason,
        -- the raw row is kept for the rows rejected_rows shows
        case
            when row_problem is not null or event_copy_number > 1 then to_json(raw_struct)
        end as raw_row,
        '{{ settings_hash }}' as settings_hash,
        {{ leadscore_as_of() }} as checked_as_of
    from ranked
    {%- if incremental %}
    union all by name
    -- an affected event with no raw row left: a marker row, so the delete+insert removes its
    -- built rows (the post-hook then deletes the marker)
    select affected_events.event_id
    from affected_events
    anti join ranked on affected_events.event_id = ranked.event_id
{%- endif %}
)

select * from final
