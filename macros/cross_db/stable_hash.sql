{#- A bigint from a text key and a timestamp (to the second) that every engine computes the
    same: the first 15 hex digits (60 bits) of the md5 of "<key>|<epoch seconds>". Uniform and
    deterministic, so ordering by it picks the same pseudo-random rows on DuckDB and on Spark
    (DuckDB's hash() and Spark's hash() differ). -#}

{% macro leadscore_stable_hash(key, at) -%}
    {{- return(adapter.dispatch('leadscore_stable_hash', 'leadscore')(key, at)) -}}
{%- endmacro %}

{% macro leadscore_stable_hash_text(key, at) -%}
    md5({{ key }} || '|' || cast(cast(floor({{ epoch_seconds(at) }}) as bigint) as varchar))
{%- endmacro %}

{% macro default__leadscore_stable_hash(key, at) -%}
    cast('0x' || substr({{ leadscore_stable_hash_text(key, at) }}, 1, 15) as bigint)
{%- endmacro %}

{% macro spark__leadscore_stable_hash(key, at) -%}
    cast(conv(substr({{ leadscore_stable_hash_text(key, at) }}, 1, 15), 16, 10) as bigint)
{%- endmacro %}
