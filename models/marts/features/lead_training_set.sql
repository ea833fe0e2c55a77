{#- Training rows as (lead, cutoff) pairs, the moments a lead is scored at:

    * early cutoffs, var('training_offsets_hours') after each lead's created_at (a new lead is
      scored when it arrives), cutoff_kind = 'early';
    * calendar cutoffs every var('training_cadence') (day | week | month) over the data's own
      date range (an open lead is scored again while it stays open), cutoff_kind = 'calendar'.

    Each row is labelled with whether the lead converted within var('label_window_days') days
    after its cutoff; a lead converted before a cutoff is left out of it, so a lead converting
    a day after it arrived is a positive at its 1-hour cutoff (and absent from later ones).
    Only cutoffs whose label window has fully passed by the end of the data (or as_of, if
    earlier) are used. A long-open lead keeps at most var('training_max_calendar_rows_per_lead')
    calendar rows, a fixed pseudo-random choice that never looks at the label (keeping, say,
    the row just before a conversion would make the kept rows convert more often than the
    lead's rows do), each weighted by sample_weight = its calendar rows / the cap so the lead
    still counts as much as before; the post-hook logs how many pairs were left out.
    A flat export (no created_at) has one row per lead at as_of, labelled by var('label_column'). #}
-- depends_on: {{ ref('rule_based_points') }}
{{ config(post_hook="{{ leadscore_training_set_summary(this) }}") }}
{%- set window = var('label_window_days') %}
{%- set cap = var('training_max_calendar_rows_per_lead') %}

with leads as (
    select * from {{ ref('stg_raw__leads') }}
),

conversions as (
    select * from {{ ref('stg_raw__conversions') }}
),

timeline as (
    select * from {{ ref('int_lead_events_sessionized') }}
),

{% if var('created_at_column') -%}
data_range as (
    -- cutoffs follow the data: a historical export ends long before the build's as_of
    select
        min(leads.created_at) as data_start,
        greatest(
            max(leads.created_at),
            (select max(timeline.occurred_at) from timeline),
            (select max(conversions.converted_at) from conversions)
        ) as data_end
    from leads
),

cutoff_range as (
    -- only cutoffs whose label is final: their whole label window lies within the data
    select
        data_start,
        {{ leadscore_last_matured_cutoff('data_end') }} as last_cutoff
    from data_range
),

calendar_cutoffs as (
    select
        unnest(
            generate_series(
                date_trunc('{{ var("training_cadence") }}', data_start)
                + interval 1 {{ var('training_cadence') }},
                last_cutoff,
                interval 1 {{ var('training_cadence') }}
            )
        ) as as_of
    from cutoff_range
),

offsets as (
    select unnest([{{ var('training_offsets_hours') | join(', ') }}]) as offset_hours
),

early_pairs as (
    select
        leads.lead_id,
        leads.created_at + to_hours(offsets.offset_hours) as as_of,
        'early' as cutoff_kind
    from leads
    cross join offsets
    cross join cutoff_range
    where leads.created_at + to_hours(offsets.offset_hours) <= cutoff_range.last_cutoff
),

calendar_pairs as (
    select
        leads.lead_id,
        calendar_cutoffs.as_of,
        'calendar' as cutoff_kind
    from leads
    cross join calendar_cutoffs
    where leads.created_at < calendar_cutoffs.as_of
),

pairs as (
    select * from early_pairs
    union all
    select * from calendar_pairs
),

open_pairs as (
    -- a lead is scored only while it is open: converted leads leave at their conversion
    select
        pairs.*,
        conversions.converted_at
    from pairs
    left join conversions on pairs.lead_id = conversions.lead_id
    where {{ leadscore_was_open_at('conversions.converted_at', 'pairs.as_of') }}
    -- an early cutoff that falls on a calendar one is one row
    qualify
        row_number() over (
            partition by pairs.lead_id, pairs.as_of
            order by pairs.cutoff_kind = 'early' desc
        ) = 1
),

counted_pairs as (
    select
        *,
        count(*) filter (where cutoff_kind = 'calendar') over (partition by lead_id)
            as calendar_rows
    from open_pairs
),

picked_pairs as (
    select
        *,
        row_number() over (
            partition by lead_id, cutoff_kind
            order by {{ leadscore_stable_hash("lead_id", "as_of") }}
        ) as pick
    from counted_pairs
),

bounded_pairs as (
    -- long-open leads: a fixed pseudo-random subset of their calendar rows, chosen without
    -- looking at the label and weighted up to stand for all of them
    select
        *,
        case
            when cutoff_kind = 'early' or calendar_rows <= {{ cap }} then 1.0
            else calendar_rows / cast({{ cap }} as double)
        end as sample_weight
    from picked_pairs
    where cutoff_kind = 'early' or pick <= {{ cap }}
),

spine as (
    select
        leads.*,
        bounded_pairs.as_of,
        bounded_pairs.cutoff_kind,
        bounded_pairs.sample_weight,
        bounded_pairs.converted_at
    from bounded_pairs
    inner join leads on bounded_pairs.lead_id = leads.lead_id
),

labelled as (
    select
        lead_id,
        as_of,
        cutoff_kind,
        sample_weight,
        {{ leadscore_converted_within_window('converted_at', 'as_of') }} as label
    from spine
),
{%- else -%}
spine as (
    select
        leads.*,
        {{ leadscore_as_of() }} as as_of
    from leads
),

labelled as (
    select
        lead_id,
        as_of,
        'flat' as cutoff_kind,
        1.0 as sample_weight,
        label
    from spine
),
{%- endif %}

features as (
    {{ leadscore_features('spine', 'timeline') }}
),

final as (
    select
        features.*,
        {{ leadscore_rule_based_score('features') }} as rule_based_score,
        labelled.cutoff_kind,
        cast(labelled.sample_weight as double) as sample_weight,
        cast({{ window if var('created_at_column') else 'null' }} as integer) as label_window_days,
        labelled.label
    from features
    inner join labelled
        on
            features.lead_id = labelled.lead_id
            and features.as_of = labelled.as_of
)

select * from final
