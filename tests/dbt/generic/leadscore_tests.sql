{#- Generic data tests (the project cannot install dbt_utils, so it carries the few it needs). -#}

{% test accepted_range(model, column_name, min_value=none, max_value=none) %}
    {#- Rows whose value lies outside [min_value, max_value] (NULLs pass). A feature column the
        event taxonomy does not produce (a channel or intent another export lacks) has nothing
        to check: the test passes. -#}
    {%- set judged = not leadscore_compiles_only() -%}
    {%- set present = adapter.get_columns_in_relation(model) | map(attribute='name') | map('lower') | list
        if judged else [] -%}
    {%- if judged and column_name | lower not in present %}
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
    {#- Warns or fails when too large a share of an input was rejected (vars rejected_share_warn
        / rejected_share_error). The failing row names the input and its share in words, and so
        does a line of the build log; the failure count is the number of inputs at fault (0 or
        1), not a scaled share. The input's rows are its parsed rows (raw_relation) plus its
        malformed ones. raw_relation is named, not source()d: a source parent would make
        `dbt build --select +lead_scores` run this test without building rejected_rows. -#}
    {{ config(
        fail_calc='count(*)',
        warn_if='> 0',
        error_if='> 0 and max(rejected_share) > ' ~ var('rejected_share_error'),
    ) }}
    {%- set shares_sql %}
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
        rejected.n / total.n as rejected_share,
    from rejected, total
    where
        total.n > 0
        and rejected.n / total.n > {{ [var('rejected_share_warn'), var('rejected_share_error')] | min }}
    {%- endset %}
    {%- if not leadscore_compiles_only() -%}
        {%- for row in run_query(shares_sql) -%}
            {{ log('Input ' ~ row[0] ~ ': ' ~ '%.1f' | format(100 * row[3]) ~ '% of its rows '
                ~ 'rejected (' ~ row[1] ~ ' of ' ~ row[2] ~ '); warn above '
                ~ '%g' | format(100 * var('rejected_share_warn')) ~ '%, fail above '
                ~ '%g' | format(100 * var('rejected_share_error')) ~ '%. '
                ~ ('It fails the build. ' if row[3] > var('rejected_share_error') else '')
                ~ "See why: select reject_reason, count(*) from rejected_rows "
                ~ "where input_name = '" ~ row[0] ~ "' group by all", info=true) }}
        {%- endfor -%}
    {%- endif %}
    with shares as ({{ shares_sql }})

    select
        *,
        'input {{ input_name }}: ' || format('{:.1f}', 100 * rejected_share)
        || '% of its rows rejected (' || rejected_rows || ' of ' || total_rows
        || '), warn above {{ var("rejected_share_warn") * 100 }}%, fail above '
        || '{{ var("rejected_share_error") * 100 }}%' as message,
    from shares
{% endtest %}


{% test unmapped_event_share(model) %}
    {#- Warns when more than var unmapped_event_share_warn of the events match no taxonomy row,
        and fails the build above var unmapped_event_share_error. The failing row says the share
        in words; the build log names the top unmapped kinds and the line to add to the taxonomy
        file for each. The failure count is 1 when the share is too large, not a scaled share. -#}
    {{ config(
        fail_calc='count(*)',
        warn_if='> 0',
        error_if='> 0 and max(unmapped_share) > ' ~ var('unmapped_event_share_error'),
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
    select
        max(unmapped_share_of_events) as unmapped_share,
        format('{:.1f}', 100 * max(unmapped_share_of_events))
        || '% of events match no row of the event taxonomy, warn above '
        || '{{ var("unmapped_event_share_warn") * 100 }}%, fail above '
        || '{{ var("unmapped_event_share_error") * 100 }}%' as message,
    from {{ model }}
    having count(*) > 0 and max(unmapped_share_of_events) > {{ [var('unmapped_event_share_warn'), var('unmapped_event_share_error')] | min }}
{% endtest %}

{% test psi_within_limits(model, column_name, count_column='current_leads') %}
    {#- Drift gate: warns when a PSI exceeds var psi_warn and fails the build above var
        psi_error (unless the test's severity is warn). Populations smaller than var
        drift_min_leads are not judged: their PSI is mostly sampling noise. The failing rows
        are the drifting features, each with a message naming it and its PSI against the two
        lines, and the build log lists them; the failure count is the number of drifting
        features. A backfill (as_of before the cutoffs the model's reference distribution was
        taken at) is not judged: its leads are younger and fewer than the reference's, so the
        PSI would measure the calendar, not drift. The build log says so. -#}
    {{ config(
        fail_calc='count(*)',
        warn_if='> 0',
        error_if='> 0 and max(' ~ column_name ~ ') > ' ~ var('psi_error'),
    ) }}
    {%- set skip_reason = leadscore_drift_skip_reason() %}
    {%- if skip_reason and execute %}{{ log(skip_reason, info=true) }}{% endif %}
    {%- set drifting_sql %}
    select *
    from {{ model }}
    where
        {{ 'false' if skip_reason else 'true' }}
        and {{ column_name }} > {{ [var('psi_warn'), var('psi_error')] | min }}
        and {{ count_column }} >= {{ var('drift_min_leads') }}
    {%- endset %}
    {%- if not skip_reason and not leadscore_compiles_only() -%}
        {%- set rows = run_query('select feature, ' ~ column_name ~ ' from (' ~ drifting_sql
            ~ ') as drifting order by ' ~ column_name ~ ' desc, feature') -%}
        {%- if rows | length > 0 -%}
            {%- set lines = [] -%}
            {%- for row in rows -%}
                {%- do lines.append('  ' ~ ('the score' if row[0] == '__score__'
                    else 'feature ' ~ row[0]) ~ ': PSI ' ~ '%.3f' | format(row[1])
                    ~ (' is above the error line ' ~ var('psi_error') if row[1] > var('psi_error')
                    else ' is above the warn line ' ~ var('psi_warn') ~ ' (error above '
                    ~ var('psi_error') ~ ')')) -%}
            {%- endfor -%}
            {{ log('Drift: ' ~ (rows | length) ~ ' measured column(s) moved beyond PSI '
                ~ var('psi_warn') ~ ' from the training distribution:\n'
                ~ (lines | join('\n')), info=true) }}
        {%- endif -%}
    {%- endif %}
    with drifting as ({{ drifting_sql }})

    select
        *,
        case when feature = '__score__' then 'the score' else 'feature ' || feature end
        || ': PSI ' || format('{:.3f}', {{ column_name }})
        || case
            when {{ column_name }} > {{ var('psi_error') }}
                then ' is above the error line {{ var("psi_error") }}'
            else ' is above the warn line {{ var("psi_warn") }} (error above '
                || '{{ var("psi_error") }})'
        end as message,
    from drifting
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
