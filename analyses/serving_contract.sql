{#- Compiled by `leadscore serve` at start-up with the serving models: the input contract and
    the models a request runs through (see macros/serving.sql), as JSON. -#}
{%- set contract = leadscore_raw_contract() -%}
{%- set attributes = {} -%}
{%- for column in var('categorical_attributes') -%}
    {%- do attributes.update({column: {'column': leadscore_slug(column), 'kind': 'categorical'}}) -%}
{%- endfor -%}
{%- for column in var('numeric_attributes') -%}
    {%- do attributes.update({column: {'column': leadscore_slug(column), 'kind': 'numeric'}}) -%}
{%- endfor -%}
{%- set pii = {} -%}
{%- for column in var('pii_columns') -%}
    {%- do pii.update({column: leadscore_slug(column) ~ '_hash'}) -%}
{%- endfor -%}
{{ tojson({
    'models': leadscore_serving_models(),
    'history': leadscore_serving_history(),
    'inputs': leadscore_serving_inputs(),
    'lead_id_column': var('lead_id_column'),
    'created_at_column': var('created_at_column'),
    'label_column': var('label_column'),
    'attributes': attributes,
    'pii': pii,
    'leads_columns': contract.leads.required + contract.leads.optional,
    'events_required': contract.events.required,
    'events_optional': contract.events.optional,
    'non_feature_columns': var('non_feature_columns'),
}) }}
