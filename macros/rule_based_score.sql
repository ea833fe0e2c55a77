{#- The rule-based point score that leadscore replaces ("+10 for an executive title"), from the
    rule_based_points seed, kept as a baseline: training reports its AUC next to the model's.
    Fit rules whose attribute is not configured (a different CRM export) are skipped. -#}

{% macro leadscore_rule_based_score(relation_alias) %}
    {%- if not execute -%}{{ return('0') }}{%- endif -%}
    {#- compiling a fresh clone: the seed is not loaded yet, the score compiles as 0 -#}
    {%- if leadscore_compiles_only() and load_relation(ref('rule_based_points')) is none -%}
        {{ return('0') }}
    {%- endif -%}
    {%- set attributes = leadscore_categorical_features() + leadscore_numeric_features() -%}
    {%- set rules = run_query('select feature, operator, value, points, kind from ' ~ ref('rule_based_points')) -%}
    {%- set terms = [] -%}
    {%- for rule in rules -%}
        {%- set feature, operator, value, points, kind = rule[0], rule[1], rule[2], rule[3], rule[4] -%}
        {%- if kind == 'behaviour' or feature in attributes -%}
            {%- if operator == 'in' -%}
                {%- set quoted = [] -%}
                {%- for item in value.split('|') -%}{%- do quoted.append("'" ~ (item | replace("'", "''")) ~ "'") -%}{%- endfor -%}
                {%- set condition = relation_alias ~ '.' ~ feature ~ ' in (' ~ (quoted | join(', ')) ~ ')' -%}
            {%- elif operator in ('>=', '>', '<=', '<', '=') -%}
                {%- set condition = relation_alias ~ '.' ~ feature ~ ' ' ~ operator ~ ' ' ~ (value | float) -%}
            {%- else -%}
                {{ exceptions.raise_compiler_error("seeds/rule_based_points.csv: unknown operator '" ~ operator ~ "' (use in, >=, >, <=, < or =)") }}
            {%- endif -%}
            {%- do terms.append('case when ' ~ condition ~ ' then ' ~ points ~ ' else 0 end') -%}
        {%- endif -%}
    {%- endfor -%}
    {{- return(terms | join(' + ') if terms else '0') -}}
{% endmacro %}
