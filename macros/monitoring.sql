{#- Model monitoring in SQL: ranking (AUC), calibration (Brier, reliability bins, ECE), lift,
    precision / recall at the tier thresholds, drift (PSI) and the challenger model.

    The metric macros return a whole select statement over a relation (a table or a CTE name)
    with one row per group, so the monitoring marts and the tests run the same code on real
    scores or on a handful of hand-made rows. Labels are 0/1; scores are probabilities. -#}

{% macro leadscore_columns(columns, prefix='') -%}
    {#- "a, b, " (with a trailing comma) for the start of a select list; "" for no columns. -#}
    {%- for column in columns %}{{ prefix }}{{ column }}, {% endfor -%}
{%- endmacro %}

{% macro leadscore_partition(columns, extra=[]) -%}
    {%- set all = columns + extra -%}
    {%- if all %}partition by {{ all | join(', ') }}{% endif -%}
{%- endmacro %}

{% macro leadscore_group_by(columns, extra=[]) -%}
    {%- set all = columns + extra -%}
    {%- if all %}group by {{ all | join(', ') }}{% endif -%}
{%- endmacro %}

{% macro leadscore_auc(relation, label='label', score='probability', group_by=[]) -%}
    {#- Area under the ROC curve by the rank formula (Mann-Whitney U):
        (sum of the positives' ranks - P(P+1)/2) / (P x N). Tied scores share the average of
        their ranks, so a tie between a positive and a negative counts one half, as in
        scikit-learn's roc_auc_score. NULL when a group lacks positives or negatives. -#}
    select
        {{ leadscore_columns(group_by) }}
        count(*) as n,
        cast(sum(label) as bigint) as positives,
        case
            when sum(label) > 0 and sum(label) < count(*)
                then (
                    sum(average_rank) filter (where label = 1)
                    - sum(label) * (sum(label) + 1) / 2
                ) / (sum(label) * (count(*) - sum(label)))
        end as auc,
    from (
        select
            {{ leadscore_columns(group_by) }}
            cast({{ label }} as double) as label,
            rank() over ({{ leadscore_partition(group_by) }} order by {{ score }} nulls last)
            + (count(*) over ({{ leadscore_partition(group_by, [score]) }}) - 1) / 2
                as average_rank,
        from {{ relation }}
        where {{ score }} is not null and {{ label }} is not null
    ) as ranked
    {{ leadscore_group_by(group_by) }}
{%- endmacro %}

{% macro leadscore_probability_bin(score, bins=10) -%}
    {#- Equal-width bin of a probability: bin b holds b/bins < p <= (b+1)/bins (the first bin
        also holds 0). The inner edges are i x (1/bins), the same doubles numpy's linspace
        gives, so a probability exactly on an edge lands where leadscore.metrics puts it. -#}
    {#- the count of inner edges below p, one comparison per edge (no list functions); each
        edge is the text of the Python double, which every engine parses to that same double -#}
    {%- set edges = [] -%}
    {%- for i in range(1, bins) -%}{%- do edges.append(i * (1.0 / bins)) -%}{%- endfor -%}
    (
        {%- for edge in edges %}
        case when {{ score }} > cast('{{ edge }}' as double) then 1 else 0 end
        {{- ' +' if not loop.last }}
        {%- else %}
        0
        {%- endfor %}
    )
{%- endmacro %}

{% macro leadscore_reliability_bins(relation, label='label', score='probability', group_by=[], bins=10) -%}
    {#- Predicted vs observed conversion rate per equal-width probability bin (empty bins are
        left out), as leadscore.metrics.reliability_bins computes at training time. -#}
    select
        {{ leadscore_columns(group_by) }}
        bin,
        bin * (cast(1 as double) / {{ bins }}) as lower_edge,
        (bin + 1) * (cast(1 as double) / {{ bins }}) as upper_edge,
        count(*) as n,
        avg({{ score }}) as mean_predicted,
        avg(cast({{ label }} as double)) as observed_rate,
    from (
        select
            *,
            {{ leadscore_probability_bin(score, bins) }} as bin,
        from {{ relation }}
        where {{ score }} is not null and {{ label }} is not null
    ) as binned
    {{ leadscore_group_by(group_by, ['bin']) }}
{%- endmacro %}

{% macro leadscore_ece(relation, label='label', score='probability', group_by=[], bins=10) -%}
    {#- Expected calibration error: the lead-weighted mean |observed - predicted| over the
        reliability bins. -#}
    select
        {{ leadscore_columns(group_by) }}
        sum(n * abs(observed_rate - mean_predicted)) / sum(n) as ece,
    from ({{ leadscore_reliability_bins(relation, label, score, group_by, bins) }}) as bins
    {{ leadscore_group_by(group_by) }}
{%- endmacro %}

{% macro leadscore_brier(relation, label='label', score='probability', group_by=[]) -%}
    {#- Brier score (mean squared error of the probability), mean prediction and observed rate. -#}
    select
        {{ leadscore_columns(group_by) }}
        avg(power({{ score }} - cast({{ label }} as double), 2)) as brier,
        avg({{ score }}) as mean_predicted,
        avg(cast({{ label }} as double)) as observed_rate,
    from {{ relation }}
    where {{ score }} is not null and {{ label }} is not null
    {{ leadscore_group_by(group_by) }}
{%- endmacro %}

{% macro leadscore_lift(relation, label='label', score='probability', group_by=[], order_key='lead_id', buckets=10) -%}
    {#- Leads ranked by score, highest first, cut into equal buckets (deciles): per bucket its
        conversion rate and lift over the overall rate, and the cumulative gain (the share of
        all conversions captured by this bucket and the ones above it). Ties are broken by
        order_key so the cut is reproducible. -#}
    with ranked as (
        select
            {{ leadscore_columns(group_by) }}
            cast({{ label }} as double) as label,
            {{ score }} as score,
            ntile({{ buckets }}) over (
                {{ leadscore_partition(group_by) }} order by {{ score }} desc nulls last, {{ order_key }}
            ) as bucket,
        from {{ relation }}
        where {{ score }} is not null and {{ label }} is not null
    ),

    buckets as (
        select
            {{ leadscore_columns(group_by) }}
            bucket,
            count(*) as n,
            cast(sum(label) as bigint) as positives,
            avg(score) as mean_predicted,
            min(score) as min_score,
        from ranked
        {{ leadscore_group_by(group_by, ['bucket']) }}
    ),

    cumulative as (
        select
            *,
            sum(n) over (
                {{ leadscore_partition(group_by) }} order by bucket
            ) as cumulative_n,
            sum(positives) over (
                {{ leadscore_partition(group_by) }} order by bucket
            ) as cumulative_positives,
            sum(n) over ({{ leadscore_partition(group_by) }}) as total_n,
            sum(positives) over ({{ leadscore_partition(group_by) }}) as total_positives,
        from buckets
    )

    select
        {{ leadscore_columns(group_by) }}
        bucket,
        n,
        positives,
        mean_predicted,
        min_score,
        positives / n as conversion_rate,
        case when total_positives > 0 then (positives / n) / (total_positives / total_n) end
            as lift,
        cumulative_n / total_n as cumulative_share_of_leads,
        case when total_positives > 0 then cumulative_positives / total_positives end
            as cumulative_gain,
        case
            when total_positives > 0
                then (cumulative_positives / cumulative_n) / (total_positives / total_n)
        end as cumulative_lift,
    from cumulative
{%- endmacro %}

{% macro leadscore_threshold_metrics(relation, label='label', score='probability', group_by=[], thresholds=none) -%}
    {#- Precision and recall when every lead at or above a tier's threshold is called a
        conversion (var tier_thresholds): the questions "of the A leads, how many converted?"
        and "how many of the conversions were A leads?". -#}
    {%- set thresholds = thresholds or var('tier_thresholds') -%}
    with tiers as (
        select
            tier,
            cast(threshold as double) as threshold,
        from (values
            {%- for tier, threshold in thresholds | dictsort(by='value', reverse=true) %}
            ('{{ tier }}', '{{ threshold }}'){{ ',' if not loop.last }}
            {%- endfor %}
        ) as t (tier, threshold)
    ),

    scored as (
        select
            {{ leadscore_columns(group_by) }}
            cast({{ label }} as double) as label,
            {{ score }} as score,
        from {{ relation }}
        where {{ score }} is not null and {{ label }} is not null
    ),

    counted as (
        select
            {{ leadscore_columns(group_by, 'scored.') }}
            tiers.tier,
            tiers.threshold,
            count(*) as n,
            sum(scored.label) as positives,
            count(*) filter (where scored.score >= tiers.threshold) as leads_at_or_above,
            coalesce(sum(scored.label) filter (where scored.score >= tiers.threshold), 0)
                as true_positives,
        from scored
        cross join tiers
        {{ leadscore_group_by(leadscore_prefixed(group_by, 'scored.'), ['tiers.tier', 'tiers.threshold']) }}
    )

    select
        {{ leadscore_columns(group_by) }}
        tier,
        threshold,
        n,
        cast(positives as bigint) as positives,
        leads_at_or_above,
        leads_at_or_above / n as share_at_or_above,
        case when leads_at_or_above > 0 then true_positives / leads_at_or_above end as precision,
        case when positives > 0 then true_positives / positives end as recall,
    from counted
{%- endmacro %}

{% macro leadscore_prefixed(columns, prefix) -%}
    {%- set out = [] -%}
    {%- for column in columns %}{% do out.append(prefix ~ column) %}{% endfor -%}
    {{- return(out) -}}
{%- endmacro %}

{#- ------------------------------------------------------------------------------- drift -#}

{% macro leadscore_drift_bins(current, reference, keys=['feature'], value='value') -%}
    {#- Current values put into the reference bins exactly as training binned them: NULL into
        bin -1, else the bin with lower_edge < value <= upper_edge (a NULL edge is open). Every
        reference bin comes out once per key, with the current count and share (0 when empty).
        current: rows of keys + value; reference: keys + bin, lower_edge, upper_edge,
        reference_share. -#}
    with current_values as (
        select
            {{ leadscore_columns(keys) }}
            {{ value }} as value,
        from {{ current }}
    ),

    totals as (
        select
            {{ leadscore_columns(keys) }}
            count(*) as total,
        from current_values
        {{ leadscore_group_by(keys) }}
    ),

    reference_bins as (
        select
            {{ leadscore_columns(keys) }}
            bin,
            lower_edge,
            upper_edge,
            reference_share,
        from {{ reference }}
    ),

    binned as (
        select
            {{ leadscore_columns(keys, 'reference_bins.') }}
            reference_bins.bin,
            count(*) as current_count,
        from current_values
        inner join reference_bins
            on
                {% for key in keys -%}
                current_values.{{ key }} = reference_bins.{{ key }} and
                {% endfor -%}
                (
                    (current_values.value is null and reference_bins.bin = -1)
                    or (
                        current_values.value is not null
                        and reference_bins.bin >= 0
                        and (
                            reference_bins.lower_edge is null
                            or current_values.value > reference_bins.lower_edge
                        )
                        and (
                            reference_bins.upper_edge is null
                            or current_values.value <= reference_bins.upper_edge
                        )
                    )
                )
        {{ leadscore_group_by(leadscore_prefixed(keys, 'reference_bins.'), ['reference_bins.bin']) }}
    )

    select
        {{ leadscore_columns(keys, 'reference_bins.') }}
        reference_bins.bin,
        reference_bins.lower_edge,
        reference_bins.upper_edge,
        reference_bins.reference_share,
        coalesce(binned.current_count, 0) as current_count,
        coalesce(cast(binned.current_count as double) / totals.total, 0) as current_share,
    from reference_bins
    left join binned
        on
            {% for key in keys -%}
            reference_bins.{{ key }} = binned.{{ key }} and
            {% endfor -%}
            reference_bins.bin = binned.bin
    inner join totals
        on
            {% for key in keys -%}
            reference_bins.{{ key }} = totals.{{ key }}{{ ' and' if not loop.last }}
            {% endfor %}
{%- endmacro %}

{% macro leadscore_psi_term(reference_share, current_share, epsilon=none) -%}
    {#- One bin's share of the population stability index; an empty bin counts as epsilon
        (var psi_epsilon) so the logarithm stays finite. -#}
    {%- set epsilon = epsilon if epsilon is not none else var('psi_epsilon') -%}
    (
        (greatest({{ current_share }}, {{ epsilon }}) - greatest({{ reference_share }}, {{ epsilon }}))
        * ln(greatest({{ current_share }}, {{ epsilon }}) / greatest({{ reference_share }}, {{ epsilon }}))
    )
{%- endmacro %}

{% macro leadscore_psi(relation, keys=['feature'], reference_share='reference_share', current_share='current_share', epsilon=none) -%}
    {#- Population stability index per key: sum over bins of
        (current - reference) x ln(current / reference). 0 for identical distributions; by
        custom, under 0.1 is stable, 0.1-0.25 a moderate shift, above 0.25 a large one. -#}
    select
        {{ leadscore_columns(keys) }}
        sum({{ leadscore_psi_term(reference_share, current_share, epsilon) }}) as psi,
    from {{ relation }}
    {{ leadscore_group_by(keys) }}
{%- endmacro %}

{#- -------------------------------------------------------------------- segments, models -#}

{% macro leadscore_segment_columns() -%}
    {#- The configured segments (var segment_attributes) that are categorical attributes of
        this project; the others are skipped, so a flat export without e.g. country still builds. -#}
    {%- set available = leadscore_categorical_features() -%}
    {%- set segments = [] -%}
    {%- for column in var('segment_attributes') or [] -%}
        {%- if leadscore_slug(column) in available -%}{%- do segments.append(leadscore_slug(column)) -%}{%- endif -%}
    {%- endfor -%}
    {{- return(segments) -}}
{%- endmacro %}

{% macro leadscore_registry_relation(name) -%}
    {#- A table of the model registry (schema leadscore_models), or none before any training. -#}
    {%- if not execute -%}{{ return(none) }}{%- endif -%}
    {{- return(adapter.get_relation(database=target.database, schema='leadscore_models', identifier=name)) -}}
{%- endmacro %}

{% macro leadscore_registry_table(name, columns) -%}
    {#- A select of a registry table. A warehouse without a registry (the model was trained
        against another warehouse and copied in) gets an empty relation with the same columns
        instead, and a warning that says how to fill it: scoring goes on, drift and the
        comparisons with the test metrics stay empty. columns: [name, type] pairs. -#}
    {%- set relation = source('leadscore_models', name) -%}
    {%- if leadscore_compiles_only() or leadscore_registry_relation(name) is not none -%}
        select * from {{ relation }}
    {%- else -%}
        {{ log("Warning: leadscore_models." ~ name ~ " is missing from " ~ target.path
            ~ ", so drift and the comparisons with the test metrics stay empty. Record the model "
            ~ "versions of artifacts/models in this warehouse with: leadscore promote --sync",
            info=true) }}
        select
            {%- for column, type in columns %}
            cast(null as {{ type }}) as {{ column }},
            {%- endfor %}
        where false
    {%- endif -%}
{%- endmacro %}

{% macro leadscore_challenger(champion) -%}
    {#- The challenger model: var challenger_version, else the newest other version in the
        registry with the champion's feature schema that still loads; none when there is none.
        An explicitly requested version that cannot score lead_features stops the build. -#}
    {%- if leadscore_compiles_only() or not champion.version -%}{{ return(none) }}{%- endif -%}
    {%- if var('challenger_version') -%}
        {%- if var('challenger_version') == champion.version -%}
            {{ exceptions.raise_compiler_error(
                "challenger_version " ~ var('challenger_version') ~ " is the model that scores "
                ~ "lead_scores; pick another version (leadscore promote --list) or unset it.") }}
        {%- endif -%}
        {{- return(leadscore_model(var('challenger_version'))) -}}
    {%- endif -%}
    {%- if leadscore_registry_relation('model_registry') is none -%}{{ return(none) }}{%- endif -%}
    {%- set candidates = run_query(
        "select model_version from leadscore_models.model_registry where model_version != '"
        ~ champion.version ~ "' and feature_schema_hash = '" ~ champion.feature_schema_hash
        ~ "' order by created_at desc, model_version desc") -%}
    {%- for row in candidates -%}
        {%- set info = fromjson(run_query("select leadscore_model_info('" ~ row[0] ~ "')")[0][0]) -%}
        {%- if not info.error -%}{{ return(leadscore_model(row[0])) }}{%- endif -%}
    {%- endfor -%}
    {{- return(none) -}}
{%- endmacro %}

{% macro leadscore_drift_skip_reason() %}
    {#- Why drift is not judged in this build (a backfill), or none. Only a build asks the
        warehouse: dbt compile renders the drift tests as judged, without a query. -#}
    {%- if leadscore_compiles_only() or not var('as_of') -%}{{ return(none) }}{%- endif -%}
    {%- set info = fromjson(run_query("select leadscore_model_info('" ~ (var('model_version') or '') ~ "')")[0][0]) -%}
    {%- set cutoffs = info.get('reference_cutoffs') or [] -%}
    {%- if info.error or not cutoffs -%}{{ return(none) }}{%- endif -%}
    {%- set before = run_query("select cast('" ~ var('as_of') ~ "' as timestamp) < cast('"
        ~ (cutoffs | min) ~ "' as timestamp)")[0][0] -%}
    {%- if before -%}
        {{ return("Drift not judged: as_of " ~ var('as_of') ~ " is a backfill, before the cutoffs the "
            ~ "reference distribution of model " ~ info.version ~ " was taken at (from " ~ (cutoffs | min)
            ~ "). Its leads are not comparable with the reference, so the drift tests pass without "
            ~ "judging; feature_drift still shows the PSI.") }}
    {%- endif -%}
    {{ return(none) }}
{% endmacro %}

{% macro leadscore_segment_rows(relation) -%}
    {#- Each row once for the whole population (segment_name 'overall', segment_value 'all') and
        once per configured segment it belongs to, so one grouped query evaluates them all. -#}
    select
        *,
        'overall' as segment_name,
        'all' as segment_value,
    from {{ relation }}
    {%- for segment in leadscore_segment_columns() %}
    union all
    select
        *,
        '{{ segment }}' as segment_name,
        {{ leadscore_ident(segment) }} as segment_value,
    from {{ relation }}
    {%- endfor %}
{%- endmacro %}
