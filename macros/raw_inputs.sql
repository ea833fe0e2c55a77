{#- Registers the three raw inputs (leads, events, conversions) in the raw schema.

    Inputs come from files in a directory (CSV or Parquet; events and conversions optional) or,
    when var('raw_schema') is set, from existing DuckDB tables in that schema. Either way the
    staging models read them through source('raw', ...). Required columns are checked here, so a
    bad export stops the build before anything is written, with the file and column named.

    Parquet files and tables are registered as views. A CSV file is parsed once per build into a
    table, with a fixed dialect (var csv_delimiter, default ',', and '"' for quoting, doubled
    inside a quoted value) and the column names of its header line, never guessed from the data:
    one broken row cannot change how the rest of the file is read, and every model sees the same
    rows. Rows that do not parse (wrong number of fields, invalid UTF-8) are listed in
    leadscore_raw.malformed_rows, which staging passes on to rejected_rows, so every row of the
    file is accounted for. A quote that is never closed stops the build instead: the rows after
    it cannot be told apart. An invocation that reads no raw input (a scoring-only build) keeps
    the tables of the last build instead of parsing the files again. -#}


{% macro leadscore_data_dir() -%}
    {{- return(var('data_dir') or env_var('LEADSCORE_DATA_DIR', 'data/raw')) -}}
{%- endmacro %}

{% macro leadscore_csv_delimiter() -%}
    {{- return(var('csv_delimiter', ',')) -}}
{%- endmacro %}

{% macro leadscore_sql_string(value) -%}
    '{{ value | replace("'", "''") }}'
{%- endmacro %}

{% macro leadscore_raw_contract() %}
    {#- required and optional columns per input; leads' columns follow the mapping vars -#}
    {#- lead_id_column: null makes each lead's id from its row (base_raw__leads) -#}
    {% set lead_required = [var('lead_id_column')] if var('lead_id_column') else [] %}
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

{% macro leadscore_reads_raw_inputs() %}
    {#- Whether this invocation runs anything that reads the raw inputs: a scoring-only build
        does not parse the files again. -#}
    {% if selected_resources is not defined or selected_resources is none %}{{ return(true) }}{% endif %}
    {% for unique_id in selected_resources %}
        {% if leadscore_node_reads_raw(unique_id) %}{{ return(true) }}{% endif %}
    {% endfor %}
    {{ return(false) }}
{% endmacro %}

{% macro leadscore_node_reads_raw(unique_id) %}
    {#- A node reads the raw inputs through a raw source, directly or through views. -#}
    {% set node = graph.nodes.get(unique_id) %}
    {% if node is none %}{{ return(unique_id.startswith('source.' ~ project_name ~ '.raw.')) }}{% endif %}
    {% for parent in node.depends_on.nodes %}
        {% if parent.startswith('source.' ~ project_name ~ '.raw.') %}{{ return(true) }}{% endif %}
        {% set parent_node = graph.nodes.get(parent) %}
        {% if parent_node is not none and parent_node.config.materialized == 'view'
            and leadscore_node_reads_raw(parent) %}
            {{ return(true) }}
        {% endif %}
    {% endfor %}
    {{ return(false) }}
{% endmacro %}

{% macro leadscore_register_raw_inputs() %}
    {{ return(adapter.dispatch('leadscore_register_raw_inputs')()) }}
{% endmacro %}

{% macro default__leadscore_register_raw_inputs() %}
    {% if not execute %}{{ return('') }}{% endif %}
    {% set schema = 'leadscore_raw' %}
    {% set contract = leadscore_raw_contract() %}
    {% set scan = leadscore_reads_raw_inputs() %}
    {% do run_query('create schema if not exists ' ~ schema) %}
    {% do run_query('create table if not exists ' ~ schema ~ '.malformed_rows ('
        ~ 'input_name varchar, file varchar, file_row_number bigint, reject_reason varchar)') %}
    {% set data_dir = leadscore_data_dir() %}
    {% for name, spec in contract.items() %}
        {#- a build that reads no raw input keeps what the last one registered -#}
        {% if scan or leadscore_relation_kind(schema, name) is none %}
            {% set reader = none %}
            {% set csv_path = none %}
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
                        {#- its row numbers, read in parallel (staging's source_row_number) -#}
                        {% set reader = "(select * exclude (file_row_number), file_row_number + 1 "
                            ~ "as leadscore_row_number from read_parquet('" ~ path
                            ~ "', file_row_number = true))" %}
                    {% else %}
                        {% set csv_path = path %}
                        {% set reader = leadscore_csv_reader(name, path, leadscore_csv_header(name, path)) %}
                    {% endif %}
                {% endif %}
            {% endif %}
            {% set select = leadscore_contract_select(name, reader, origin, spec) %}
            {% set relation = schema ~ '.' ~ name %}
            {% set kind = leadscore_relation_kind(schema, name) %}
            {% if scan %}
                {% do run_query("delete from " ~ schema ~ ".malformed_rows where input_name = '" ~ name ~ "'") %}
            {% endif %}
            {% if csv_path is not none %}
                {#- a CSV file is parsed once into a table, so every reader sees the same rows -#}
                {% if scan or kind != 'BASE TABLE' %}
                    {% do leadscore_drop_relation(relation, kind) %}
                    {% do leadscore_load_csv(name, relation, select, csv_path) %}
                {% endif %}
            {% else %}
                {% if kind == 'BASE TABLE' %}{% do leadscore_drop_relation(relation, kind) %}{% endif %}
                {% do run_query('create or replace view ' ~ relation ~ ' as ' ~ select) %}
            {% endif %}
            {% if scan and reader is not none and run_query('select count(*) from ' ~ relation)[0][0] == 0 %}
                {% if spec.must_exist %}
                    {{ exceptions.raise_compiler_error(
                        "Input " ~ origin ~ " (" ~ name ~ ") has no readable rows. Export the "
                        ~ name ~ " again: a build needs at least one lead.") }}
                {% endif %}
                {{ log("Input " ~ origin ~ " (" ~ name ~ ") has no rows: building without "
                    ~ name ~ ".", info=true) }}
            {% endif %}
        {% endif %}
    {% endfor %}
    {% if scan and var('pii_columns') and not env_var('LEADSCORE_PII_SALT', '') %}
        {{ log("Warning: LEADSCORE_PII_SALT is not set, so PII columns (" ~ (var('pii_columns') | join(', '))
            ~ ") are hashed with the built-in default salt, which anyone can reproduce. Set "
            ~ "LEADSCORE_PII_SALT to a secret value.", info=true) }}
    {% endif %}
    {{ return('') }}
{% endmacro %}

{% macro leadscore_csv_header(name, path) %}
    {#- The column names in a CSV file's first line, read as plain text (no CSV parsing, no
        guessing from the data). Stops the build for an empty file or a repeated column. -#}
    {% set rows = run_query("select * from read_csv('" ~ path ~ "', header = false, auto_detect = false, "
        ~ "columns = {'line': 'VARCHAR'}, delim = E'\\x1f', quote = '', escape = '', "
        ~ "ignore_errors = true) limit 1") %}
    {% if rows | length == 0 or rows[0][0] is none or rows[0][0].strip() == '' %}
        {{ exceptions.raise_compiler_error(
            "Input " ~ path ~ " (" ~ name ~ ") is empty: it does not even have a header line. "
            ~ ("If you have no " ~ name ~ ", delete the file; otherwise export it again."
               if name != 'leads' else "Export the leads again.")) }}
    {% endif %}
    {% set delimiter = modules.re.escape(leadscore_csv_delimiter()) %}
    {% set pattern = '(?:^|' ~ delimiter ~ ')\\s*(?:"((?:[^"]|"")*)"|([^"' ~ delimiter ~ ']*))' %}
    {% set names = [] %}
    {% set seen = [] %}
    {% for quoted, plain in modules.re.findall(pattern, rows[0][0].rstrip('\r\n')) %}
        {% set column = (quoted | replace('""', '"')) if quoted else plain.strip() %}
        {% set column = column if column else 'column' ~ loop.index0 %}
        {% if column | lower in seen %}
            {{ exceptions.raise_compiler_error(
                "Input " ~ path ~ " (" ~ name ~ ") has the column '" ~ column ~ "' more than once "
                ~ "in its header. Rename or drop one of them in the export.") }}
        {% endif %}
        {% do seen.append(column | lower) %}
        {% do names.append(column) %}
    {% endfor %}
    {{ return(names) }}
{% endmacro %}

{% macro leadscore_csv_reader(name, path, columns) -%}
    {#- Reads a CSV file with the columns of its header, all as text. Rows that do not parse are
        skipped and described in the temporary table leadscore_rejects_<name>. -#}
    {%- set typed = [] -%}
    {%- for column in columns -%}
        {%- do typed.append(leadscore_sql_string(column) ~ ": 'VARCHAR'") -%}
    {%- endfor -%}
    read_csv('{{ path }}', header = true, auto_detect = false, columns = { {{- typed | join(', ') -}} },
        delim = {{ leadscore_sql_string(leadscore_csv_delimiter()) }}, quote = '"', escape = '"',
        store_rejects = true, rejects_table = 'leadscore_rejects_{{ name }}',
        rejects_scan = 'leadscore_rejects_{{ name }}_scans')
{%- endmacro %}

{% macro leadscore_relation_kind(schema, name) %}
    {% set rows = run_query("select table_type from information_schema.tables where table_schema = '"
        ~ schema ~ "' and table_name = '" ~ name ~ "'") %}
    {{ return(rows[0][0] if rows | length > 0 else none) }}
{% endmacro %}

{% macro leadscore_drop_relation(relation, kind) %}
    {% if kind == 'VIEW' %}{% do run_query('drop view ' ~ relation) %}{% endif %}
    {% if kind == 'BASE TABLE' %}{% do run_query('drop table ' ~ relation) %}{% endif %}
{% endmacro %}

{% macro leadscore_load_csv(name, relation, select, csv_path) %}
    {#- Parses a CSV file into a table. Its malformed rows go to leadscore_raw.malformed_rows;
        a quote that is never closed stops the build. Every column is read (select *), so each
        row is checked in full, whichever columns the models use later. -#}
    {% set rejects = 'leadscore_rejects_' ~ name %}
    {% do run_query('drop table if exists ' ~ rejects) %}
    {% do run_query('drop table if exists ' ~ rejects ~ '_scans') %}
    {% do run_query('create table ' ~ relation ~ ' as ' ~ select) %}
    {% set unclosed = run_query("select min(line) from " ~ rejects ~ " where error_type = 'UNQUOTED VALUE'")[0][0] %}
    {% if unclosed is not none %}
        {{ exceptions.raise_compiler_error(
            "Input " ~ csv_path ~ " (" ~ name ~ "): a quoted value at row " ~ unclosed
            ~ " (counting the header as row 1) is not closed where the value ends, so the rows "
            ~ "after it cannot be told apart. Fix the quoting in the export: put the whole value "
            ~ "in double quotes and write a quote inside it twice (\"\").") }}
    {% endif %}
    {% do run_query("insert into leadscore_raw.malformed_rows "
        ~ "select '" ~ name ~ "', '" ~ csv_path ~ "', line, 'malformed CSV row: ' || case "
        ~ "when bool_or(error_type = 'INVALID ENCODING') then 'not valid UTF-8' "
        ~ "when bool_or(error_type = 'TOO MANY COLUMNS') then max(found) || ' fields, the header has ' || max(expected) "
        ~ "when bool_or(error_type = 'MISSING COLUMNS') then min(found) || if(min(found) = 1, ' field', ' fields') "
        ~ "|| ', the header has ' || max(expected) "
        ~ "else lower(min(error_type)) end "
        ~ "from (select line, error_type, "
        ~ "try_cast(regexp_extract(error_message, 'Found: (\\d+)', 1) as integer) as found, "
        ~ "try_cast(regexp_extract(error_message, 'Columns: (\\d+)', 1) as integer) as expected "
        ~ "from " ~ rejects ~ ") group by line order by line") %}
{% endmacro %}

{% macro leadscore_relation_columns(reader) %}
    {{ return(adapter.dispatch('leadscore_relation_columns')(reader)) }}
{% endmacro %}

{% macro default__leadscore_relation_columns(reader) %}
    {% set columns = [] %}
    {% for row in run_query('describe select * from ' ~ reader) %}{% do columns.append(row[0]) %}{% endfor %}
    {{ return(columns) }}
{% endmacro %}

{% macro leadscore_contract_select(name, reader, origin, spec) %}
    {#- A select over the input that has every contract column (optional ones as NULL when the
        file lacks them), or an empty relation of the same shape when the input is absent.
        Column names match case-insensitively, as DuckDB resolves them. -#}
    {% if reader is none %}
        {% set columns = [] %}
        {% for column in spec.required + spec.optional %}
            {% do columns.append("null::varchar as " ~ adapter.quote(column)) %}
        {% endfor %}
        {{ return('select ' ~ (columns | join(', ')) ~ ' where false') }}
    {% endif %}
    {% set present = [] %}
    {% set present_lower = [] %}
    {% for column in leadscore_relation_columns(reader) if column != 'leadscore_row_number' %}
        {% do present.append(column) %}
        {% do present_lower.append(column | lower) %}
    {% endfor %}
    {% set missing = [] %}
    {% for column in spec.required %}
        {% if column | lower not in present_lower %}{% do missing.append(column) %}{% endif %}
    {% endfor %}
    {% if missing %}
        {#- a header read as one column usually means another delimiter -#}
        {% set hints = [] %}
        {% for other, label in [[';', ';'], ['\t', '\\t'], ['|', '|']] %}
            {% if present | length == 1 and other in present[0] and other != leadscore_csv_delimiter() %}
                {% do hints.append(" The header looks separated by '" ~ label ~ "': set --vars "
                    ~ "'{csv_delimiter: \"" ~ label ~ "\"}'.") %}
            {% endif %}
        {% endfor %}
        {{ exceptions.raise_compiler_error(
            "Input " ~ origin ~ " (" ~ name ~ ") is missing required column(s): "
            ~ (missing | join(', ')) ~ ". It has: " ~ (present | join(', '))
            ~ ". Rename the columns in your export, or map them with the vars in dbt_project.yml "
            ~ "(lead_id_column, created_at_column, categorical_attributes, numeric_attributes)."
            ~ (hints | join(''))) }}
    {% endif %}
    {% set extra = [] %}
    {% for column in spec.optional %}
        {% if column | lower not in present_lower %}
            {% do extra.append("null::varchar as " ~ adapter.quote(column)) %}
        {% endif %}
    {% endfor %}
    {{ return('select *' ~ (', ' ~ (extra | join(', ')) if extra else '') ~ ' from ' ~ reader) }}
{% endmacro %}
