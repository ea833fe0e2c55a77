{#- Event kinds (channel, event_type, page_category) that no row of the event taxonomy matches,
    with how many events they hold and their share of all events. Such events count as
    'unclassified': no intent, no weight, no role, so the features cannot see what they mean.
    csv_line_to_add is a starter row for the taxonomy file (intent and weight are a guess to
    review). The unmapped_event_share test warns above var unmapped_event_share_warn and fails
    the build above var unmapped_event_share_error, naming the top kinds. #}

with timeline as (
    select * from {{ ref('int_lead_events_sessionized') }}
),

kinds as (
    select
        channel,
        event_type,
        page_category,
        intent_category = 'unclassified' as is_unmapped,
        count(*) as events
    from timeline
    group by all
),

shares as (
    select
        *,
        events / sum(events) over () as share_of_events
    from kinds
),

final as (
    select
        channel,
        event_type,
        coalesce(page_category, '*') as page_category,
        events,
        share_of_events,
        sum(share_of_events) over () as unmapped_share_of_events,
        concat_ws(
            ',', channel, event_type, coalesce(page_category, '*'), 'engagement', '1', '',
            '"' || channel || ' ' || event_type || '"'
        ) as csv_line_to_add
    from shares
    where is_unmapped
)

select * from final
