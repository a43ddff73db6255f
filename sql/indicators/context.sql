-- What a report needs besides the figures: the period's district campaign (of a city: the one
-- that started last, and how many districts run one), the calendar years
-- that fell back to Monday–Friday (provisional), and the data version: the moment the
-- data of the report's years stands at (the newest extract, see data_as_of) and the batches.
SELECT
    (SELECT struct_pack(name := campaign, start_date := start_date, end_date := end_date,
                        target_m2 := target_m2)
     FROM campaign_of($start, $end) ORDER BY start_date DESC, campaign, district LIMIT 1)
        AS campaign,
    (SELECT count(*) FROM campaign_of($start, $end)) AS campaigns,
    (SELECT list(DISTINCT year(d) ORDER BY year(d)) FROM calendar_days
     WHERE provisional AND (d BETWEEN $start AND $end OR d BETWEEN $prev_start AND $prev_end))
        AS provisional_years,
    data_as_of($prev_start, $end) AS data_as_of,
    (SELECT count(*) FROM district_batches) AS batches
