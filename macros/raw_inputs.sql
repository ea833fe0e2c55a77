{#- Registers the three raw inputs (leads, events, conversions) as views in the raw schema.

    Inputs come from files in a directory (CSV or Parquet; events and conversions optional) or,
    when var('raw_schema') is set, from existing DuckDB tables in that schema. Either way the
    staging models read them through source('raw', ...). Required columns are checked here, so a
    bad export stops the build before anything is written, with the file and column named. -#}


{% macro leadscore_data_dir() -%}
    {{- return(var('data_dir') or env_var('LEADSCORE_DATA_DIR', 'data/raw')) -}}
{%- endmacro %}

{% macro leadscore_raw_contract() %}
    {#- required and optional columns per input; leads' columns follow the mapping vars -#}
    {% set lead_required = [var('lead_id_column')] %}
    {% if var('created_at_column') %}{% do lead_required.append(var('created_at_column')) %}{% endif %}
    {% if var('label_column') %}{% do lead_required.append(var('label_column')) %}{% endif %}
    {% for column in var('categorical_attributes') + var('numeric_attributes') %}
        {% do lead_required.append(column) %}
    {% endfor %}
    {{ return({
        'leads': {'required': lead_required, 'optional': var('pii_columns'), 'must_exist': true},
        'events': {
            'required': ['lead_id', 'occurred_at', 'channel', 'event_type'],
            'optional': ['event_id', 'page_category', 'campaign', 'source', 'value'],
            'must_exist': false,
        },
        'conversions': {
            'required': ['lead_id', 'converted_at'],
            'optional': ['amount'],
            'must_exist': false,
        },
    }) }}
{% endmacro %}

{% macro leadscore_find_input_file(data_dir, name) %}
    {% set found = [] %}
    {% for pattern in [name ~ '.csv', name ~ '.csv.gz', name ~ '.parquet'] %}
        {% set rows = run_query("select file from glob('" ~ data_dir ~ "/" ~ pattern ~ "')") %}
        {% for row in rows %}{% do found.append(row[0]) %}{% endfor %}
    {% endfor %}
    {% if found | length > 1 %}
        {{ exceptions.raise_compiler_error(
            "Found more than one file for input '" ~ name ~ "' in " ~ data_dir ~ ": "
            ~ (found | join(', ')) ~ ". Keep exactly one of " ~ name ~ ".csv or " ~ name ~ ".parquet.") }}
    {% endif %}
    {{ return(found[0] if found else none) }}
{% endmacro %}

{% macro leadscore_register_raw_inputs() %}
    {% if not execute %}{{ return('') }}{% endif %}
    {% set schema = 'leadscore_raw' %}
    {% set contract = leadscore_raw_contract() %}
    {% do run_query('create schema if not exists ' ~ schema) %}
    {% set data_dir = leadscore_data_dir() %}
    {% for name, spec in contract.items() %}
        {% set reader = none %}
        {% set origin = data_dir ~ '/' ~ name %}
        {% if var('raw_schema') %}
            {% set origin = var('raw_schema') ~ '.' ~ name %}
            {% set exists = run_query(
                "select count(*) from information_schema.tables where table_schema = '"
                ~ var('raw_schema') ~ "' and table_name = '" ~ name ~ "'")[0][0] %}
            {% if exists == 0 and spec.must_exist %}
                {{ exceptions.raise_compiler_error(
                    "Table " ~ origin ~ " not found. Load your leads into it, or unset var raw_schema "
                    ~ "to read files from " ~ data_dir ~ ".") }}
            {% endif %}
            {% if exists > 0 %}{% set reader = origin %}{% endif %}
        {% else %}
            {% set path = leadscore_find_input_file(data_dir, name) %}
            {% if path is none and spec.must_exist %}
                {{ exceptions.raise_compiler_error(
                    "No " ~ name ~ " file in " ~ data_dir ~ " (expected " ~ name ~ ".csv or " ~ name
                    ~ ".parquet). Generate demo data with `leadscore generate`, or point "
                    ~ "LEADSCORE_DATA_DIR (or var data_dir) at your export.") }}
            {% endif %}
            {% if path is not none %}
                {% set origin = path %}
                {% if path.endswith('.parquet') %}
                    {% set reader = "read_parquet('" ~ path ~ "')" %}
                {% else %}
                    {% set reader = "read_csv('" ~ path ~ "', header = true, all_varchar = true, "
                        ~ "auto_detect = true, null_padding = false)" %}
                {% endif %}
            {% endif %}
        {% endif %}
        {% do run_query('create or replace view ' ~ schema ~ '.' ~ name ~ ' as '
            ~ leadscore_contract_select(name, reader, origin, spec)) %}
    {% endfor %}
    {{ return('') }}
{% endmacro %}

{% macro leadscore_contract_select(name, reader, origin, spec) %}
    {#- A select over the input that has every contract column (optional ones as NULL when the
        file lacks them), or an empty relation of the same shape when the input is absent. -#}
    {% if reader is none %}
        {% set columns = [] %}
        {% for column in spec.required + spec.optional %}
            {% do columns.append("null::varchar as " ~ adapter.quote(column)) %}
        {% endfor %}
        {{ return('select ' ~ (columns | join(', ')) ~ ' where false') }}
    {% endif %}
    {% set present = [] %}
    {% for row in run_query('describe select * from ' ~ reader) %}
        {% do present.append(row[0]) %}
    {% endfor %}
    {% set missing = [] %}
    {% for column in spec.required %}
        {% if column not in present %}{% do missing.append(column) %}{% endif %}
    {% endfor %}
    {% if missing %}
        {{ exceptions.raise_compiler_error(
            "Input " ~ origin ~ " (" ~ name ~ ") is missing required column(s): "
            ~ (missing | join(', ')) ~ ". It has: " ~ (present | join(', '))
            ~ ". Rename the columns in your export, or map them with the vars in dbt_project.yml "
            ~ "(lead_id_column, created_at_column, categorical_attributes, numeric_attributes).") }}
    {% endif %}
    {% set extra = [] %}
    {% for column in spec.optional %}
        {% if column not in present %}
            {% do extra.append("null::varchar as " ~ adapter.quote(column)) %}
        {% endif %}
    {% endfor %}
    {{ return('select *' ~ (', ' ~ (extra | join(', ')) if extra else '') ~ ' from ' ~ reader) }}
{% endmacro %}
