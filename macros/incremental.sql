{#- Fingerprinted incremental models (int_lead_events_sessionized, lead_features, lead_scores).

    Every row carries a fingerprint: a hash of everything the row is computed from (its inputs'
    rows and the model's code and settings). A run computes only the keys whose fingerprint is
    new or changed, delete+insert replaces their rows, and a post-hook deletes the keys that
    left the model's input. `--full-refresh`, or a table built before it had the fingerprint
    column, computes every key. The model's config:

        materialized='incremental', unique_key='lead_id', incremental_strategy='delete+insert',
        post_hook="{{ leadscore_delete_keys_not_in(ref('...')) }}"

    and its SQL: a CTE of candidate rows with `{{ leadscore_fingerprint(settings, [...]) }}`,
    then `{{ leadscore_changed_only('candidates', 'lead_fingerprint') }}` to keep the ones to
    compute. -#}

{% macro leadscore_fingerprint(settings, parts) -%}
    {#- A row's fingerprint: settings (text: the model's code, vars, anything compile-time the
        rows depend on) and parts (SQL expressions of the row's inputs, e.g.
        leadscore_rows_fingerprint('events') in an aggregate). -#}
    hash('{{ local_md5(settings) }}', {{ parts | join(', ') }})
{%- endmacro %}

{% macro leadscore_rows_fingerprint(relation) -%}
    {#- Aggregate: one hash of a set of rows of relation, whatever their order (xor of the rows'
        hashes; the rows must be distinct, e.g. hold a unique id, or pairs cancel out). -#}
    bit_xor(hash({{ leadscore.row_value(relation) }}))
{%- endmacro %}

{% macro leadscore_is_fingerprinted_incremental(fingerprint) -%}
    {#- This run is incremental and the table holds its fingerprints (a table built before they
        existed is rebuilt whole; on_schema_change adds the column). -#}
    {{- return(is_incremental() and fingerprint in (
        adapter.get_columns_in_relation(this) | map(attribute='name') | list
    )) -}}
{%- endmacro %}

{% macro leadscore_changed_only(candidates, fingerprint, key='lead_id') -%}
    {#- The rows of the CTE `candidates` to compute: all of them, or in an incremental run those
        whose key is new or whose fingerprint differs from the one the table holds for it. -#}
    select {{ candidates }}.*
    from {{ candidates }}
    {%- if leadscore_is_fingerprinted_incremental(fingerprint) %}
    anti join (select distinct {{ key }}, {{ fingerprint }} from {{ this }}) as built
        on
            {{ candidates }}.{{ key }} = built.{{ key }}
            and {{ candidates }}.{{ fingerprint }} = built.{{ fingerprint }}
    {%- endif %}
{%- endmacro %}

{% macro leadscore_delete_keys_not_in(relation, where=none, key='lead_id') -%}
    {#- Post-hook of an incremental run: delete the rows whose key left `relation` (the rows of
        it that pass `where`). -#}
    {%- if is_incremental() -%}
        delete from {{ this }} where {{ key }} not in (
            select {{ key }} from {{ relation }}{% if where %} where {{ where }}{% endif %}
        )
    {%- endif -%}
{%- endmacro %}
