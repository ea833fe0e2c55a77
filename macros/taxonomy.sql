{#- The event taxonomy, read at compile time straight from its CSV file.

    The taxonomy decides which behavioural features exist (one count per channel and per intent)
    and which events play the roles the sequence features look for (a pricing view, a content
    download, an email sent / opened / clicked, an unsubscribe, a web visit). Reading the CSV
    file, not the seed table, lets `dbt compile` and a first `dbt build` work on an empty
    warehouse. The file is var('event_taxonomy_file') when set (a path, e.g.
    examples/activity_log/event_taxonomy.csv), else the seed seeds/event_taxonomy.csv. -#}

{% macro leadscore_taxonomy_roles() -%}
    {#- The roles the sequence features need; a taxonomy row names at most one. -#}
    {{- return(['web_visit', 'pricing', 'content_download', 'email_sent', 'email_open',
        'email_click', 'unsubscribe']) -}}
{%- endmacro %}

{% macro leadscore_seed_file(name) -%}
    {#- The CSV file of a seed of this project, for reading it at compile time. -#}
    {%- set seed = graph.nodes.get('seed.' ~ project_name ~ '.' ~ name) if execute else none -%}
    {%- if seed is none -%}{{ return('seeds/' ~ name ~ '.csv') }}{%- endif -%}
    {{- return(seed.root_path ~ '/' ~ seed.original_file_path) -}}
{%- endmacro %}

{% macro leadscore_taxonomy_file() -%}
    {#- The taxonomy CSV file: var event_taxonomy_file, else the event_taxonomy seed's file. -#}
    {%- if var('event_taxonomy_file', none) -%}{{ return(var('event_taxonomy_file')) }}{%- endif -%}
    {{- return(leadscore_seed_file('event_taxonomy')) -}}
{%- endmacro %}

{% macro leadscore_taxonomy_relation() -%}
    {#- SQL reading the taxonomy: the seed table, or the CSV file named by var
        event_taxonomy_file, with the seed's column types. Values are compared in lower case,
        as staging lowercases the events. -#}
    {%- if var('event_taxonomy_file', none) -%}
    (
        select
            lower(trim(channel)) as channel,
            lower(trim(event_type)) as event_type,
            lower(trim(page_category)) as page_category,
            lower(trim(intent_category)) as intent_category,
            cast(intent_weight as double) as intent_weight,
            nullif(lower(trim(role)), '') as role,
        from read_csv({{ leadscore_sql_string(var('event_taxonomy_file')) }}, header = true,
            all_varchar = true, union_by_name = true)
    )
    {%- else -%}
    (
        select
            lower(trim(channel)) as channel,
            lower(trim(event_type)) as event_type,
            lower(trim(page_category)) as page_category,
            lower(trim(intent_category)) as intent_category,
            intent_weight,
            nullif(lower(trim(role)), '') as role,
        from {{ ref('event_taxonomy') }}
    )
    {%- endif -%}
{%- endmacro %}

{% macro leadscore_csv_relation(path) -%}
    {#- A relation reading a CSV file with a header, every value as text. -#}
    {{- return(adapter.dispatch('leadscore_csv_relation')(path)) -}}
{%- endmacro %}

{% macro default__leadscore_csv_relation(path) -%}
    {{- return("read_csv(" ~ leadscore_sql_string(path) ~ ", header = true, all_varchar = true)") -}}
{%- endmacro %}

{% macro leadscore_taxonomy() %}
    {#- The taxonomy's rows as dicts (channel, event_type, page_category, intent_category,
        role), lowercased; empty while dbt parses. Stops with the file named when the file
        lacks a column the features need or names an unknown role. -#}
    {%- if not execute -%}{{ return([]) }}{%- endif -%}
    {%- set path = leadscore_taxonomy_file() -%}
    {%- set reader = leadscore_csv_relation(path) -%}
    {%- set columns = leadscore_relation_columns(reader) | map('lower') | list -%}
    {%- set missing = [] -%}
    {%- for column in ['channel', 'event_type', 'page_category', 'intent_category', 'intent_weight'] -%}
        {%- if column not in columns -%}{%- do missing.append(column) -%}{%- endif -%}
    {%- endfor -%}
    {%- if missing -%}
        {{ exceptions.raise_compiler_error("Event taxonomy " ~ path ~ " is missing column(s): "
            ~ (missing | join(', ')) ~ ". It needs channel, event_type, page_category, "
            ~ "intent_category, intent_weight and optionally role.") }}
    {%- endif -%}
    {%- set role = "nullif(lower(trim(role)), '')" if 'role' in columns else 'null' -%}
    {%- set rows = run_query("select lower(trim(channel)), lower(trim(event_type)), "
        ~ "lower(trim(page_category)), lower(trim(intent_category)), " ~ role ~ " from " ~ reader) -%}
    {%- set taxonomy = [] -%}
    {%- set intents = ['high_intent', 'content', 'engagement', 'negative', 'outbound'] -%}
    {%- for row in rows -%}
        {%- if row[3] not in intents -%}
            {{ exceptions.raise_compiler_error("Event taxonomy " ~ path ~ ": unknown intent_category '"
                ~ row[3] ~ "' on the row " ~ row[0] ~ "," ~ row[1] ~ "," ~ row[2] ~ ". Use one of: "
                ~ (intents | join(', ')) ~ ".") }}
        {%- endif -%}
        {%- if row[4] and row[4] not in leadscore_taxonomy_roles() -%}
            {{ exceptions.raise_compiler_error("Event taxonomy " ~ path ~ ": unknown role '" ~ row[4]
                ~ "' on the row " ~ row[0] ~ "," ~ row[1] ~ "," ~ row[2] ~ ". Use one of: "
                ~ (leadscore_taxonomy_roles() | join(', ')) ~ ", or leave it empty.") }}
        {%- endif -%}
        {%- do taxonomy.append({'channel': row[0], 'event_type': row[1], 'page_category': row[2],
            'intent_category': row[3], 'role': row[4]}) -%}
    {%- endfor -%}
    {{ return(taxonomy) }}
{% endmacro %}

{% macro leadscore_taxonomy_values(column, exclude=[]) -%}
    {#- The distinct values of a taxonomy column in the order of the file (e.g. the channels):
        the feature columns follow it, so a taxonomy that renames values but keeps its rows in
        order gives the same feature matrix. -#}
    {%- set values = [] -%}
    {%- for row in leadscore_taxonomy() -%}
        {%- if row[column] and row[column] not in values and row[column] not in exclude -%}
            {%- do values.append(row[column]) -%}
        {%- endif -%}
    {%- endfor -%}
    {{- return(values) -}}
{%- endmacro %}

{% macro leadscore_channels() -%}
    {#- The channels that get activity counts: every channel of the taxonomy. -#}
    {{- return(leadscore_taxonomy_values('channel')) -}}
{%- endmacro %}

{% macro leadscore_intents() -%}
    {#- The intents that get signal counts: every intent of the taxonomy but outbound sends. -#}
    {{- return(leadscore_taxonomy_values('intent_category', exclude=['outbound'])) -}}
{%- endmacro %}

{% macro leadscore_taxonomy_features_changed(names) -%}
    {#- Whether feature names belong to the families the taxonomy decides (per channel or
        intent), so a schema mismatch can be explained as a taxonomy change. -#}
    {%- for name in names -%}
        {%- if modules.re.match('^.+_(actions|signals)_[0-9]+d$', name)
            or modules.re.match('^days_since_last_.+$', name) -%}
            {{- return(true) -}}
        {%- endif -%}
    {%- endfor -%}
    {{- return(false) -}}
{%- endmacro %}
