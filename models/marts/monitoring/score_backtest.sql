{#- "Leads scored N days ago: how many converted, by tier." For every history snapshot before
    as_of, per model version and tier: the leads that were still open then, the conversions
    the model expected (the sum of their probabilities over the whole label window) and the
    conversions that happened since, within the window. While the window is still running
    (is_window_complete false), actual conversions are still coming in. #}
{{ config(contract={'enforced': true}) }}

with lead_score_history as (
    select * from {{ ref('lead_score_history') }}
),

conversions as (
    select * from {{ ref('stg_raw__conversions') }}
),

open_at_snapshot as (
    select
        lead_score_history.*,
        conversions.converted_at
    from lead_score_history
    left join conversions on lead_score_history.lead_id = conversions.lead_id
    where
        lead_score_history.scored_as = 'served'
        and lead_score_history.as_of < {{ leadscore_as_of() }}
        and {{ leadscore_was_open_at('conversions.converted_at', 'lead_score_history.as_of') }}
),

by_tier as (
    select
        as_of,
        model_version,
        tier,
        count(*) as leads,
        sum(conversion_probability) as expected_conversions,
        cast(sum({{ leadscore_converted_within_window('converted_at', 'as_of') }}) as bigint)
            as actual_conversions
    from open_at_snapshot
    group by as_of, model_version, tier
),

final as (
    select
        as_of,
        model_version,
        tier,
        leads,
        expected_conversions,
        actual_conversions,
        actual_conversions / leads as conversion_rate,
        expected_conversions / leads as expected_conversion_rate,
        cast(date_diff('day', as_of, {{ leadscore_as_of() }}) as integer) as days_since_snapshot,
        {{ leadscore_label_window_elapsed_share('as_of') }} as window_elapsed_share,
        {{ leadscore_has_matured('as_of') }} as is_window_complete
    from by_tier
)

select * from final
