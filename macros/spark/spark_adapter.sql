{#- The project on Apache Spark (dbt-spark, session method; see python/leadscore/spark.py).

    The models are written in DuckDB's SQL. These overrides mark a model's query so that
    leadscore.spark translates it to Spark SQL (sqlglot) where dbt-spark runs it. On Spark an
    incremental model is rebuilt as a plain table (the DuckDB block fingerprints that decide
    what an incremental run recomputes are not ported), except one that asks for
    incremental_strategy='insert_overwrite' on Spark (lead_score_history, whose history cannot
    be recomputed): dbt-spark's incremental materialization replaces the partitions its query
    returns and keeps the others. -#}

{% macro leadscore_duckdb_sql(sql) -%}
    /* leadscore:duckdb */ {{ sql }} /* leadscore:end */
{%- endmacro %}

{% macro spark__create_table_as(temporary, relation, compiled_code, language='sql') -%}
    {%- if language == 'sql' -%}
        {{ dbt.spark__create_table_as(temporary, relation, leadscore_duckdb_sql(compiled_code), language) }}
    {%- else -%}
        {{ dbt.spark__create_table_as(temporary, relation, compiled_code, language) }}
    {%- endif -%}
{%- endmacro %}

{% macro spark__create_view_as(relation, sql) -%}
    {{ dbt.spark__create_view_as(relation, leadscore_duckdb_sql(sql)) }}
{%- endmacro %}

{% macro is_incremental() %}
    {#- Spark rebuilds incremental models as tables, or overwrites whole partitions (see above):
        a model's query never reads what it already holds -#}
    {% if target.type == 'spark' %}{{ return(false) }}{% endif %}
    {{ return(dbt.is_incremental()) }}
{% endmacro %}

{% materialization incremental, adapter='spark' %}
    {%- if config.get('incremental_strategy') == 'insert_overwrite' and config.get('partition_by') -%}
        {{ return(dbt.materialization_incremental_spark()) }}
    {%- endif -%}
    {{ return(dbt.materialization_table_spark()) }}
{% endmaterialization %}

{% macro spark__leadscore_register_raw_inputs() %}
    {#- leadscore.spark has read the files into leadscore_raw.<input>_file tables (every CSV
        value as text) and leadscore_raw.malformed_rows; this checks each input against the
        contract and defines the leadscore_raw.<input> views the staging models read. -#}
    {% if not execute %}{{ return('') }}{% endif %}
    {% set schema = 'leadscore_raw' %}
    {% set loaded = [] %}
    {% for row in run_query('show tables in ' ~ schema) %}{% do loaded.append(row[1]) %}{% endfor %}
    {% for name, spec in leadscore_raw_contract().items() %}
        {% set reader = schema ~ '.' ~ name ~ '_file' if (name ~ '_file') in loaded else none %}
        {% set origin = leadscore_data_dir() ~ '/' ~ name %}
        {% set select = leadscore_contract_select(name, reader, origin, spec) %}
        {% do run_query('create or replace view ' ~ schema ~ '.' ~ name ~ ' as ' ~ leadscore_duckdb_sql(select)) %}
    {% endfor %}
    {{ return('') }}
{% endmacro %}

{% macro spark__leadscore_relation_columns(reader) %}
    {{ return(run_query('select * from ' ~ reader ~ ' limit 0').column_names | list) }}
{% endmacro %}

{% macro spark__leadscore_publish_scores(results) %}
    {#- the published Parquet files are written by the DuckDB build; on Spark the marts are tables -#}
    {{ return('') }}
{% endmacro %}

{% macro spark__leadscore_csv_relation(path) -%}
    {%- set name = 'leadscore_csv_' ~ local_md5(path) -%}
    {%- do run_query("create or replace temporary view " ~ name ~ " using csv options (path "
        ~ leadscore_sql_string(path) ~ ", header 'true')") -%}
    {{- return(name) -}}
{%- endmacro %}

{% macro spark__get_assert_columns_equivalent(sql) -%}
    {#- The models' contracts declare DuckDB's types (ubigint, json...), which Spark does not
        have: on Spark a contract fixes the columns and their order, not their types. -#}
    {{ return('') }}
{%- endmacro %}

{% macro spark__persist_constraints(relation, model) -%}
    {#- Parquet tables cannot hold constraints (dbt-spark writes them for Delta only); the
        not_null data tests check the same columns. -#}
    {{ return('') }}
{%- endmacro %}

{% macro spark__epoch_seconds(expression) -%}
    {#- DuckDB's epoch(), which leadscore.spark translates to Spark's microseconds / 1e6 -#}
    cast(epoch({{ expression }}) as double)
{%- endmacro %}
