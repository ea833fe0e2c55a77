{#- The rule-based point score that leadscore replaces ("+10 for an executive title"), from the
    rule_based_points seed (its CSV file, read at compile time), kept as a baseline: training
    reports its AUC next to the model's. A rule whose attribute or feature does not exist (a
    different CRM export, a taxonomy without that channel or intent) is skipped, and the build
    log names it: a baseline that silently lost its rules would look worse than it is. -#}

{% macro leadscore_rule_based_rules() %}
    {#- The rules as dicts, each with `missing` set when its attribute or feature is absent. -#}
    {%- if not execute -%}{{ return([]) }}{%- endif -%}
    {%- set attributes = leadscore_categorical_features() + leadscore_numeric_features() -%}
    {%- set rows = run_query("select rule, kind, feature, operator, value, points from "
        ~ leadscore_csv_relation(leadscore_seed_file('rule_based_points')) ~ " order by all") -%}
    {%- set rules = [] -%}
    {%- for row in rows -%}
        {%- set rule = {'rule': row[0], 'kind': row[1], 'feature': row[2], 'operator': row[3],
            'value': row[4], 'points': row[5] | int} -%}
        {%- if rule.kind == 'behaviour' -%}
            {%- do rule.update({'missing': not leadscore_behaviour_feature_exists(rule.feature)}) -%}
        {%- else -%}
            {%- do rule.update({'missing': rule.feature not in attributes}) -%}
        {%- endif -%}
        {%- do rules.append(rule) -%}
    {%- endfor -%}
    {{ return(rules) }}
{% endmacro %}

{% macro leadscore_behaviour_feature_exists(name) -%}
    {#- Whether a behaviour feature exists: the per-channel and per-intent families follow the
        taxonomy; every other behaviour feature always exists. -#}
    {%- set match = modules.re.match('^(.+)_(actions|signals)_([0-9]+)d$', name) -%}
    {%- if match -%}
        {%- set names = [] -%}
        {%- for value in (leadscore_channels() if match.group(2) == 'actions' else leadscore_intents()) -%}
            {%- do names.append(leadscore_slug(value)) -%}
        {%- endfor -%}
        {{- return(match.group(1) in names and (match.group(3) | int) in var('windows_days')) -}}
    {%- endif -%}
    {%- set match = modules.re.match('^days_since_last_(.+)$', name) -%}
    {%- if match and match.group(1) not in ['activity', 'web_visit'] -%}
        {%- set names = [] -%}
        {%- for value in leadscore_intents() -%}{%- do names.append(leadscore_slug(value)) -%}{%- endfor -%}
        {{- return(match.group(1) in names) -}}
    {%- endif -%}
    {{- return(true) -}}
{%- endmacro %}

{% macro leadscore_rule_based_score(relation_alias, warn=false) %}
    {%- if not execute -%}{{ return('0') }}{%- endif -%}
    {%- set terms = [] -%}
    {%- set skipped = [] -%}
    {%- for rule in leadscore_rule_based_rules() -%}
        {%- set column = relation_alias ~ '.' ~ leadscore_ident(rule.feature) -%}
        {%- if rule.missing -%}
            {%- do skipped.append(rule.rule ~ ' (' ~ rule.feature ~ ')') -%}
        {%- elif rule.operator == 'in' -%}
            {%- set quoted = [] -%}
            {%- for item in rule.value.split('|') -%}{%- do quoted.append(leadscore_sql_string(item)) -%}{%- endfor -%}
            {%- do terms.append('case when ' ~ column ~ ' in (' ~ (quoted | join(', ')) ~ ') then ' ~ rule.points ~ ' else 0 end') -%}
        {%- elif rule.operator in ('>=', '>', '<=', '<', '=') -%}
            {%- do terms.append('case when ' ~ column ~ ' ' ~ rule.operator ~ ' ' ~ (rule.value | float) ~ ' then ' ~ rule.points ~ ' else 0 end') -%}
        {%- else -%}
            {{ exceptions.raise_compiler_error("seeds/rule_based_points.csv: unknown operator '" ~ rule.operator ~ "' in rule " ~ rule.rule ~ " (use in, >=, >, <=, < or =)") }}
        {%- endif -%}
    {%- endfor -%}
    {%- if warn and skipped -%}
        {{ log("Warning: the rule-based baseline skips " ~ (skipped | length) ~ " rule(s) of "
            ~ "seeds/rule_based_points.csv whose attribute or feature does not exist in this "
            ~ "export: " ~ (skipped | join(', ')) ~ ". Rename the feature in the rule to one of "
            ~ "your attributes (vars categorical_attributes / numeric_attributes), or delete "
            ~ "the rule.", info=true) }}
    {%- endif -%}
    {{- return(terms | join(' + ') if terms else '0') -}}
{% endmacro %}
