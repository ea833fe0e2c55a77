{#- What `leadscore serve` needs from the project, in one place.

    The service scores a lead by running the build's own compiled models over a request: the
    raw inputs of the request (and the lead's stored history, fed back as raw rows) go through
    the models of leadscore_serving_models() in order, each one's compiled SQL becoming a CTE.
    Every other relation those models read (the conversions, the seeds) comes from the serving
    snapshot that a successful build publishes next to the BI marts. -#}

{% macro leadscore_serving_models() -%}
    {#- the models a request runs through, in dependency order -#}
    {{- return([
        'base_raw__leads', 'stg_raw__leads', 'base_raw__events', 'stg_raw__events',
        'int_lead_events_sessionized', 'lead_features', 'lead_scores',
    ]) -}}
{%- endmacro %}

{% macro leadscore_serving_history() -%}
    {#- the stored history of every lead: fed back through the models as raw rows -#}
    {{- return(['stg_raw__leads', 'stg_raw__events']) -}}
{%- endmacro %}

{% macro leadscore_serving_inputs() %}
    {#- Relations the serving models read that a request does not supply: published in full
        (seeds, conversions), plus lead_features with its columns only (the scoring model checks
        the model's features against them when it compiles). -#}
    {% if not execute %}{{ return([]) }}{% endif %}
    {% set chain = leadscore_serving_models() %}
    {% set inputs = [] %}
    {% for node in graph.nodes.values() if node.resource_type == 'model' and node.name in chain %}
        {% for parent_id in node.depends_on.nodes %}
            {% set parent = graph.nodes.get(parent_id) %}
            {% if parent is not none and parent.name not in chain and parent.name not in inputs %}
                {% do inputs.append(parent.name) %}
            {% endif %}
        {% endfor %}
    {% endfor %}
    {{ return(inputs | sort) }}
{% endmacro %}

{% macro leadscore_publish_serving(folder) %}
    {#- Writes folder/serving.duckdb (atomically replaced): the stored history, the inputs the
        serving models read, the columns of lead_features and of the raw inputs, and the
        build's as_of. -#}
    {% set database_tmp = folder ~ '/.serving.duckdb.tmp' %}
    {% set full = leadscore_serving_history() + leadscore_serving_inputs() %}
    {#- no adapter.get_columns_in_relation here: it opens a transaction that dbt rolls back at
        the end of the hook, taking the attached file's tables with it -#}
    {% set statements = [] %}
    {% for name in full + ['lead_features'] %}
        {% set relation = adapter.get_relation(database=target.database, schema=target.schema, identifier=name) %}
        {% if relation is none %}
            {{ exceptions.raise_compiler_error(
                "Cannot publish the serving snapshot: " ~ name ~ " was not built. Run: dbt build") }}
        {% endif %}
        {% set columns = run_query('describe ' ~ relation).columns[0].values() %}
        {#- each lead's rows together, so a lookup by lead_id reads few row groups -#}
        {% do statements.append("create table leadscore_serving_publish." ~ name ~ " as select * from "
            ~ relation ~ (" where false" if name not in full else "")
            ~ (" order by lead_id" if 'lead_id' in columns else "")) %}
    {% endfor %}
    {% do run_query("attach '" ~ database_tmp ~ "' as leadscore_serving_publish") %}
    {% for statement in statements %}{% do run_query(statement) %}{% endfor %}
    {#- the raw inputs' columns (a request's rows take their shape) -#}
    {% for name in ['leads', 'events'] %}
        {% do run_query("create table leadscore_serving_publish.raw_" ~ name ~ " as select * from "
            ~ source('raw', name) ~ " where false") %}
    {% endfor %}
    {% do run_query("create table leadscore_serving_publish.serving_snapshot as select "
        ~ leadscore_as_of() ~ " as as_of, "
        ~ "cast('" ~ run_started_at.strftime("%Y-%m-%d %H:%M:%S") ~ "' as timestamp) as built_at, "
        ~ "(select count(*) from leadscore_serving_publish.stg_raw__leads) as n_leads") %}
    {% do run_query("detach leadscore_serving_publish") %}
    {% do run_query("select leadscore_replace_file('" ~ database_tmp ~ "', '" ~ folder ~ "/serving.duckdb')") %}
{% endmacro %}
