{#- Small helpers shared by the models. -#}

{% macro leadscore_slug(name) -%}
    {#- A column name as a lowercase SQL identifier: "Lead Origin" -> lead_origin -#}
    {{- return(modules.re.sub('[^a-z0-9]+', '_', name | lower).strip('_')) -}}
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
    case
        when trim(cast({{ expression }} as varchar)) in (
            {%- for value in var('null_strings') %}'{{ value | replace("'", "''") }}'{{ ", " if not loop.last }}{% endfor -%}
        ) then null
        else trim(cast({{ expression }} as varchar))
    end
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
