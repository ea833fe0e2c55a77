{#- After a fully successful build, publish the BI marts where readers never meet a lock or a
    half-written table: each mart is written to a temporary Parquet file and a temporary DuckDB
    file in var('publish_dir'), and both are then renamed over the previous ones (an atomic
    replace). Readers holding the old files keep reading them; new readers see the new ones.
    A run with any error or failed test publishes nothing, so the last good scores stay. -#}

{% macro leadscore_publish_dir() -%}
    {{- return(var('publish_dir') or env_var('LEADSCORE_PUBLISH_DIR', 'published')) -}}
{%- endmacro %}

{% macro leadscore_publish_scores(results) %}
    {{ return(adapter.dispatch('leadscore_publish_scores')(results)) }}
{% endmacro %}

{% macro default__leadscore_publish_scores(results) %}
    {% if not execute %}{{ return('') }}{% endif %}
    {% set built = [] %}
    {% set problems = [] %}
    {% for result in results %}
        {% if result.status in ('error', 'fail', 'runtime error') %}
            {% do problems.append(result.node.name) %}
        {% endif %}
        {% if result.node.name in var('published_marts') and result.status == 'success' %}
            {% do built.append(result.node.name) %}
        {% endif %}
    {% endfor %}
    {% if not built %}{{ return('') }}{% endif %}
    {% if problems %}
        {{ log("Not publishing " ~ (built | join(', ')) ~ ": this run had errors or failed tests ("
            ~ (problems | join(', ')) ~ "). The last published marts are unchanged.", info=true) }}
        {{ return('') }}
    {% endif %}
    {% set folder = run_query("select leadscore_prepare_dir('" ~ leadscore_publish_dir() ~ "')")[0][0] %}
    {% set database_tmp = folder ~ '/.leadscore.duckdb.tmp' %}
    {% do run_query("attach '" ~ database_tmp ~ "' as leadscore_publish") %}
    {% set written = [] %}
    {% for mart in var('published_marts') %}
        {% set relation = adapter.get_relation(database=target.database, schema=target.schema, identifier=mart) %}
        {% if relation is not none %}
            {% do written.append(mart) %}
            {% do run_query("create table leadscore_publish." ~ mart ~ " as select * from " ~ relation) %}
            {% do run_query("copy (select * from " ~ relation ~ ") to '" ~ folder ~ "/." ~ mart
                ~ ".parquet.tmp' (format parquet)") %}
        {% endif %}
    {% endfor %}
    {% do run_query("detach leadscore_publish") %}
    {% for mart in written %}
        {% do run_query("select leadscore_replace_file('" ~ folder ~ "/." ~ mart ~ ".parquet.tmp', '"
            ~ folder ~ "/" ~ mart ~ ".parquet')") %}
    {% endfor %}
    {% do run_query("select leadscore_replace_file('" ~ database_tmp ~ "', '" ~ folder ~ "/leadscore.duckdb')") %}
    {% if 'lead_scores' in built %}{% do leadscore_publish_serving(folder) %}{% endif %}
    {{ log("Published " ~ (built | join(', ')) ~ " to " ~ folder, info=true) }}
    {{ return('') }}
{% endmacro %}
