{#- Scoring with the trained model inside the warehouse.

    leadscore_model() asks the leadscore plugin which model to use (var('model_version'), else
    the champion), stops the build with the plugin's message when there is none, and checks the
    model's features against lead_features, naming missing and extra columns. The other macros
    build the model's input vector from that metadata, in the model's feature order. -#}

{% macro leadscore_compiles_only() -%}
    {#- True when dbt only renders SQL (parse, compile, docs, ls, sqlfluff's dbt templater): a
        fresh clone without a warehouse or a trained model compiles with placeholders, and every
        command that runs models still stops with the clear messages below. -#}
    {{- return(not execute or flags.WHICH not in ['run', 'build', 'test', 'seed', 'snapshot',
        'show', 'run-operation', 'retry']) -}}
{%- endmacro %}

{% macro leadscore_model(version=none) %}
    {%- set placeholder = {'version': '', 'features': [], 'feature_schema_hash': '', 'base_value': 0} -%}
    {%- if not execute -%}{{ return(placeholder) }}{%- endif -%}
    {%- set requested = version or var('model_version') or '' -%}
    {%- set info = fromjson(run_query("select leadscore_model_info('" ~ requested ~ "')")[0][0]) -%}
    {%- if info.error and leadscore_compiles_only() -%}{{ return(placeholder) }}{%- endif -%}
    {%- if info.error -%}{{ exceptions.raise_compiler_error(info.error) }}{%- endif -%}
    {%- set present = {} -%}
    {%- for column in adapter.get_columns_in_relation(ref('lead_features')) -%}
        {%- do present.update({column.name: column.dtype | lower}) -%}
    {%- endfor -%}
    {#- nothing built yet to check the model against: compile with the model's own features -#}
    {%- if not present and leadscore_compiles_only() -%}{{ return(info) }}{%- endif -%}
    {%- set expected = [] -%}
    {%- set missing = [] -%}
    {%- set wrong_kind = [] -%}
    {%- for feature in info.features -%}
        {%- do expected.append(feature.name) -%}
        {%- if feature.name not in present -%}
            {%- do missing.append(feature.name) -%}
        {%- elif (feature.kind == 'categorical') != (present[feature.name] in ('varchar', 'text', 'string')) -%}
            {%- do wrong_kind.append(feature.name ~ ' (model: ' ~ feature.kind ~ ', lead_features: ' ~ present[feature.name] ~ ')') -%}
        {%- endif -%}
    {%- endfor -%}
    {%- set extra = [] -%}
    {%- for name in present if name not in expected and name not in var('non_feature_columns') -%}
        {%- do extra.append(name) -%}
    {%- endfor -%}
    {%- if missing or extra or wrong_kind -%}
        {{ exceptions.raise_compiler_error(
            "Model " ~ info.version ~ " (feature schema " ~ info.feature_schema_hash
            ~ ") does not match lead_features. Missing columns: " ~ (missing | join(', ') or 'none')
            ~ ". Extra columns: " ~ (extra | join(', ') or 'none')
            ~ (". Different kind: " ~ (wrong_kind | join(', ')) if wrong_kind else '')
            ~ (". The event taxonomy (" ~ leadscore_taxonomy_file() ~ ") changed its channels or "
               ~ "intents since this model was trained, so the behavioural features changed"
               if leadscore_taxonomy_features_changed(missing + extra) else '')
            ~ ". Retrain on the current features (python python/train.py) or pick a matching "
            ~ "version with --vars '{model_version: ...}'. lead_scores was left as it was.") }}
    {%- endif -%}
    {{ return(info) }}
{% endmacro %}

{% macro leadscore_sql_list(values) -%}
    [{%- for value in values -%}'{{ value | replace("'", "''") }}'{{ ', ' if not loop.last }}{%- endfor -%}]::varchar[]
{%- endmacro %}

{% macro leadscore_encoded(feature) -%}
    {#- A categorical feature as its vocabulary code (-1 unknown, NULL missing). -#}
    {%- if feature.kind == 'categorical' -%}
        case
            when {{ leadscore_ident(feature.name) }} is null then null
            else coalesce(nullif(list_position({{ leadscore_sql_list(feature.vocabulary) }}, {{ leadscore_ident(feature.name) }}), 0), 0) - 1
        end
    {%- else -%}
        cast({{ leadscore_ident(feature.name) }} as double)
    {%- endif -%}
{%- endmacro %}

{% macro leadscore_feature_vector(model) -%}
    {%- if not model.features -%}cast([] as double[]){%- else -%}
    [
        {%- for feature in model.features %}
        {{ leadscore_encoded(feature) }}{{ ',' if not loop.last }}
        {%- endfor %}
    ]::double[]
    {%- endif -%}
{%- endmacro %}

{% macro leadscore_score_status(model) -%}
    {#- converted: the lead has already converted (scored, never presented as a prospect);
        missing_features: a feature that was never missing in training is NULL;
        unknown_category: a category never seen in training;
        rare_category: a category seen in training too rarely to get a code of its own (it
        shares the unknown code). The rare values come from the model's metadata
        (feature.rare_values); a model without that list reports them as unknown. -#}
    {%- set required = [] -%}
    {%- set categorical = [] -%}
    {%- set rare = [] -%}
    {%- for feature in model.features -%}
        {%- if feature.kind == 'categorical' and feature.rare_values -%}
            {%- do rare.append('list_contains(' ~ leadscore_sql_list(feature.rare_values) ~ ', ' ~ leadscore_ident(feature.name) ~ ')') -%}
        {%- endif -%}
        {%- if feature.missing_rate_train == 0 -%}{%- do required.append(leadscore_ident(feature.name) ~ ' is null') -%}{%- endif -%}
        {%- if feature.kind == 'categorical' -%}
            {%- do categorical.append('(' ~ leadscore_ident(feature.name) ~ ' is not null and not list_contains(' ~ leadscore_sql_list(feature.vocabulary) ~ ', ' ~ leadscore_ident(feature.name) ~ '))') -%}
        {%- endif -%}
    {%- endfor -%}
    case
        when is_converted then 'converted'
        when {{ required | join(' or ') if required else 'false' }} then 'missing_features'
        when {{ categorical | join(' or ') if categorical else 'false' }} then
            case
                when {{ rare | join(' or ') if rare else 'false' }} then 'rare_category'
                else 'unknown_category'
            end
        else 'ok'
    end
{%- endmacro %}

{% macro leadscore_tier(probability) -%}
    {#- The tier of the score people see (the probability rounded to whole percent), so one
        0-100 score never maps to two tiers. -#}
    {%- set thresholds = var('tier_thresholds') -%}
    case
        {%- for tier, threshold in thresholds | dictsort(by='value', reverse=true) %}
        when round(100 * {{ probability }}) >= {{ (100 * threshold) | round(6) }} then '{{ tier }}'
        {%- endfor %}
        when {{ probability }} is not null then '{{ var("lowest_tier") }}'
    end
{%- endmacro %}

{% macro leadscore_category_values(model) -%}
    {#- The category text of each categorical feature (NULL at numeric positions), in the
        model's order: the reasons quote it (the vector holds only its vocabulary code). -#}
    {%- if not model.features -%}cast([] as varchar[]){%- else -%}
    [
        {%- for feature in model.features %}
        {{ leadscore_ident(feature.name) if feature.kind == 'categorical' else 'null' }}{{ ',' if not loop.last }}
        {%- endfor %}
    ]::varchar[]
    {%- endif -%}
{%- endmacro %}

{% macro leadscore_feature_positions(model, fit) -%}
    {#- 1-based positions of the fit features (attributes, lead age) or of the behaviour ones. -#}
    {%- set fit_names = leadscore_categorical_features() + leadscore_numeric_features() + ['days_since_created'] -%}
    {%- set positions = [] -%}
    {%- for feature in model.features -%}
        {%- if (feature.name in fit_names) == fit -%}{%- do positions.append(loop.index) -%}{%- endif -%}
    {%- endfor -%}
    {{- return(positions) -}}
{%- endmacro %}

{% macro leadscore_partial_score(contributions, positions) -%}
    {#- 0-100: the raw model probability from the base value plus only these contributions. -#}
    cast(round(100 / (1 + exp(-(
        {{ contributions }}[-1]
        {%- if positions %} + list_sum(list_select({{ contributions }}, {{ positions }})){% endif %}
    )))) as integer)
{%- endmacro %}
