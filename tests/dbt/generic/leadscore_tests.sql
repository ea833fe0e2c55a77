{#- Generic data tests (the project cannot install dbt_utils, so it carries the few it needs). -#}

{% test accepted_range(model, column_name, min_value=none, max_value=none) %}
    {#- Rows whose value lies outside [min_value, max_value] (NULLs pass). A feature column the
        event taxonomy does not produce (a channel or intent another export lacks) has nothing
        to check: the test passes. -#}
    {%- set present = adapter.get_columns_in_relation(model) | map(attribute='name') | map('lower') | list
        if execute else [] -%}
    {%- if execute and column_name | lower not in present %}
    select * from {{ model }} where false
    {%- else %}
    select *
    from {{ model }}
    where
        {{ column_name }} is not null
        and (
            false
            {% if min_value is not none %} or {{ column_name }} < {{ min_value }}{% endif %}
            {% if max_value is not none %} or {{ column_name }} > {{ max_value }}{% endif %}
        )
    {%- endif %}
{% endtest %}

{% test unique_combination(model, combination) %}
    {#- Key combinations that occur more than once. -#}
    select
        {{ combination | join(', ') }},
        count(*) as occurrences
    from {{ model }}
    group by {{ combination | join(', ') }}
    having count(*) > 1
{% endtest %}

{% test same_rows_as(model, column_name, to, field) %}
    {#- Keys present in one model but not the other (one row per lead in both). -#}
    (
        select {{ column_name }} as key from {{ model }}
        except
        select {{ field }} from {{ to }}
    )
    union all
    (
        select {{ field }} from {{ to }}
        except
        select {{ column_name }} from {{ model }}
    )
{% endtest %}

{% test tier_consistent_with_score(model, column_name, score_column='score') %}
    {#- A worse tier never holds a higher score than a better one (tiers ranked by their
        thresholds in var tier_thresholds, var lowest_tier last). -#}
    with tiers as (
        select *
        from (
            values
            {%- for tier in leadscore_tier_names() %}
            ('{{ tier }}', {{ loop.index }}){{ "," if not loop.last }}
            {%- endfor %}
        ) as tiers (tier, tier_rank)
    ),

    ranges as (
        select
            {{ column_name }} as tier,
            min({{ score_column }}) as min_score,
            max({{ score_column }}) as max_score
        from {{ model }}
        where {{ column_name }} is not null
        group by {{ column_name }}
    ),

    ranked as (
        select
            ranges.*,
            tiers.tier_rank
        from ranges
        inner join tiers on ranges.tier = tiers.tier
    )

    select
        better.tier as better_tier,
        worse.tier as worse_tier
    from ranked as better
    inner join ranked as worse on better.tier_rank < worse.tier_rank
    where worse.max_score > better.min_score
{% endtest %}

{% test accepted_tiers(model, column_name) %}
    {#- Tiers that are not one of var tier_thresholds' names or var lowest_tier (NULLs pass). -#}
    select {{ column_name }} as tier
    from {{ model }}
    where
        {{ column_name }} is not null
        and {{ column_name }} not in (
            {%- for tier in leadscore_tier_names() -%}
            '{{ tier }}'{{ ", " if not loop.last }}
            {%- endfor -%}
        )
{% endtest %}

{% test rejected_share(model, input_name, raw_relation) %}
    {#- Warns or fails when too large a share of an input was rejected: the share, in parts per
        million, is the test's failure count (vars rejected_share_warn / rejected_share_error).
        The input's rows are its parsed rows (raw_relation) plus its malformed ones. raw_relation
        is named, not source()d: a source parent would make `dbt build --select +lead_scores`
        run this test without building rejected_rows. -#}
    {{ config(
        fail_calc='coalesce(max(rejected_ppm), 0)',
        warn_if='>' ~ (var('rejected_share_warn') * 1000000) | int,
        error_if='>' ~ (var('rejected_share_error') * 1000000) | int,
    ) }}
    with rejected as (
        select count(*) as n from {{ model }} where input_name = '{{ input_name }}'
    ),

    total as (
        select
            (select count(*) from {{ raw_relation }})
            + (
                select count(*) from {{ model }}
                where input_name = '{{ input_name }}' and file_row_number is not null
            ) as n
    )

    select
        '{{ input_name }}' as input_name,
        rejected.n as rejected_rows,
        total.n as total_rows,
        cast(round(1000000 * rejected.n / total.n) as bigint) as rejected_ppm,
    from rejected, total
    where total.n > 0 and rejected.n > 0
{% endtest %}

{% test unmapped_event_share(model) %}
    {#- Warns when more than var unmapped_event_share_warn of the events match no taxonomy row,
        and fails the build above var unmapped_event_share_error. The failure count is the
        share in parts per million; the build log names the top unmapped kinds and the line to
        add to the taxonomy file for each. -#}
    {{ config(
        fail_calc='coalesce(max(unmapped_ppm), 0)',
        warn_if='>' ~ (var('unmapped_event_share_warn') * 1000000) | int,
        error_if='>' ~ (var('unmapped_event_share_error') * 1000000) | int,
    ) }}
    {%- if not leadscore_compiles_only() -%}
        {%- set top = run_query('select channel, event_type, page_category, events, share_of_events, '
            ~ 'unmapped_share_of_events, csv_line_to_add from ' ~ model
            ~ ' order by events desc, channel, event_type, page_category limit 10') -%}
        {%- if top | length > 0 and top[0][5] > var('unmapped_event_share_warn') -%}
            {%- set lines = [] -%}
            {%- for row in top -%}
                {%- do lines.append('  ' ~ row[0] ~ ' / ' ~ row[1] ~ ' / ' ~ row[2] ~ ': ' ~ row[3]
                    ~ ' events (' ~ '%.1f' | format(100 * row[4]) ~ '%)  ->  ' ~ row[6]) -%}
            {%- endfor -%}
            {{ log('Events no taxonomy row matches: ' ~ '%.1f' | format(100 * top[0][5])
                ~ '% of all events (warn above ' ~ var('unmapped_event_share_warn')
                ~ ', fail above ' ~ var('unmapped_event_share_error') ~ '). They count as '
                ~ "'unclassified' and no feature sees what they mean. Top kinds, each with a line to "
                ~ 'add to ' ~ leadscore_taxonomy_file() ~ ' (review its intent, weight and role):\n'
                ~ (lines | join('\n')), info=true) }}
        {%- endif -%}
    {%- endif %}
    select cast(round(1000000 * max(unmapped_share_of_events)) as bigint) as unmapped_ppm
    from {{ model }}
    having count(*) > 0
{% endtest %}

{% test psi_within_limits(model, column_name, count_column='current_leads') %}
    {#- Drift gate: warns when a PSI exceeds var psi_warn and fails the build above var
        psi_error (unless the test's severity is warn). Populations smaller than var
        drift_min_leads are not judged: their PSI is mostly sampling noise. The failure count
        is the largest PSI in parts per million; the rows returned are the drifting ones.
        A backfill (as_of before the cutoffs the model's reference distribution was taken at)
        is not judged: its leads are younger and fewer than the reference's, so the PSI would
        measure the calendar, not drift. The build log says so. -#}
    {{ config(
        fail_calc='coalesce(max(psi_ppm), 0)',
        warn_if='>' ~ (var('psi_warn') * 1000000) | int,
        error_if='>' ~ (var('psi_error') * 1000000) | int,
    ) }}
    {%- set skip_reason = leadscore_drift_skip_reason() %}
    {%- if skip_reason and execute %}{{ log(skip_reason, info=true) }}{% endif %}
    select
        *,
        cast(round(1000000 * {{ column_name }}) as bigint) as psi_ppm,
    from {{ model }}
    where
        {{ 'false' if skip_reason else 'true' }}
        and {{ column_name }} > {{ var('psi_warn') }}
        and {{ count_column }} >= {{ var('drift_min_leads') }}
{% endtest %}

{% test auc_near_test_auc(model, column_name, test_auc_column='test_auc') %}
    {#- Warns when the AUC on the most recently matured outcomes of a model version falls more
        than var auc_drop_warn below the AUC the version had on its test fold at training.
        Snapshots with fewer than var evaluation_min_positives conversions (or non-conversions)
        are too noisy to judge and are skipped. -#}
    {{ config(severity='warn') }}
    with evaluated as (
        select *
        from {{ model }}
        where
            {{ column_name }} is not null
            and {{ test_auc_column }} is not null
            and positives >= {{ var('evaluation_min_positives') }}
            and n - positives >= {{ var('evaluation_min_positives') }}
        qualify row_number() over (partition by model_version order by as_of desc) = 1
    )

    select *
    from evaluated
    where {{ test_auc_column }} - {{ column_name }} > {{ var('auc_drop_warn') }}
{% endtest %}
