{#- Small helpers shared by the models. -#}

{% macro leadscore_slug(name) -%}
    {#- A column name as a lowercase SQL identifier: "Lead Origin" -> lead_origin -#}
    {{- return(modules.re.sub('[^a-z0-9]+', '_', name | lower).strip('_')) -}}
{%- endmacro %}

{% macro leadscore_ident(name) -%}
    {#- A column name quoted for SQL, so names such as "default", "order" or "Lead Origin" build. -#}
    {{- return(adapter.quote(name)) -}}
{%- endmacro %}

{% macro leadscore_label_value(expression) -%}
    {#- A label as 1 or 0: the texts in vars label_true_values / label_false_values (1/0,
        yes/no, true/false, y/n, won/lost; any case); NULL otherwise. -#}
    case
        when lower({{ expression }}) in (
            {%- for value in var('label_true_values') %}{{ leadscore_sql_string(value | string | lower) }}{{ ', ' if not loop.last }}{% endfor -%}
        ) then 1
        when lower({{ expression }}) in (
            {%- for value in var('label_false_values') %}{{ leadscore_sql_string(value | string | lower) }}{{ ', ' if not loop.last }}{% endfor -%}
        ) then 0
    end
{%- endmacro %}

{% macro leadscore_as_of() -%}
    {#- The build's point in time: var('as_of'), or the moment the dbt run started (UTC). -#}
    {%- if var('as_of') -%}
        cast('{{ var("as_of") }}' as timestamp)
    {%- else -%}
        cast('{{ run_started_at.strftime("%Y-%m-%d %H:%M:%S") }}' as timestamp)
    {%- endif -%}
{%- endmacro %}

{% macro leadscore_clean_text(expression) -%}
    {#- Trimmed text, with the configured "not filled in" markers turned into NULL. -#}
    {#- a chain of = rather than IN (...): DuckDB plans an IN list as a join per use, ~10x
        slower on a wide raw file -#}
    case
        when {% for value in var('null_strings') -%}
            trim(cast({{ expression }} as varchar)) = '{{ value | replace("'", "''") }}'{{ " or " if not loop.last }}
        {%- endfor %} then null
        else trim(cast({{ expression }} as varchar))
    end
{%- endmacro %}

{% macro leadscore_source_row_number(relation) -%}
    {#- The row's position in its input (1 = first data row), computed in parallel where the
        input allows: a Parquet file's row number, a loaded CSV table's rowid. Anything else
        (a view over the user's own table) falls back to row_number() over (), which DuckDB
        runs on one thread. -#}
    {%- set columns = adapter.get_columns_in_relation(relation) | map(attribute='name') | map('lower') | list
        if execute else [] -%}
    {%- set found = adapter.get_relation(relation.database, relation.schema, relation.identifier)
        if execute else none -%}
    {%- if 'leadscore_row_number' in columns -%}
        leadscore_row_number
    {%- elif found is not none and found.type == 'table' -%}
        rowid + 1
    {%- else -%}
        row_number() over ()
    {%- endif -%}
{%- endmacro %}

{% macro leadscore_hash_pii(expression) -%}
    {#- sha256 of the salted, normalised value. The salt (LEADSCORE_PII_SALT) is read at run
        time by the leadscore plugin, so it never appears in compiled SQL or dbt logs. -#}
    case
        when {{ expression }} is null then null
        else sha256(leadscore_pii_salt() || lower(trim(cast({{ expression }} as varchar))))
    end
{%- endmacro %}

{% macro leadscore_categorical_features() -%}
    {%- set names = [] -%}
    {%- for column in var('categorical_attributes') -%}{%- do names.append(leadscore_slug(column)) -%}{%- endfor -%}
    {{- return(names) -}}
{%- endmacro %}

{% macro leadscore_numeric_features() -%}
    {%- set names = [] -%}
    {%- for column in var('numeric_attributes') -%}{%- do names.append(leadscore_slug(column)) -%}{%- endfor -%}
    {{- return(names) -}}
{%- endmacro %}

{% macro leadscore_tier_names() -%}
    {#- The tiers of vars tier_thresholds and lowest_tier, best (highest threshold) first. -#}
    {%- set names = [] -%}
    {%- for tier, threshold in var('tier_thresholds') | dictsort(by='value', reverse=true) -%}
        {%- do names.append(tier) -%}
    {%- endfor -%}
    {%- do names.append(var('lowest_tier')) -%}
    {{- return(names) -}}
{%- endmacro %}
