-- What a report needs besides the figures: the period's district campaign (of a city: the one
-- that started last; `campaigns` counts the districts running one), the calendar years
-- that fell back to Monday–Friday (provisional), and the data version: the moment the data the
-- report reads stands at (the newest extract, see data_as_of) and how many batches it depends
-- on (batch_touches, urbanreport/ingest/touches.py).
-- A report depends on a batch that changed a record dated in the year to date of its period or
-- of the year before, that added rejected rows (every report prints them), or, for an annual
-- report, any batch (its quality table shows the cumulative counts). So a batch that touches
-- nothing a report reads leaves the report's bytes as they were.
WITH report_batches AS (
    SELECT b.batch_id FROM district_batches b
    WHERE b.batch_id IN (
        SELECT t.batch_id FROM district_batch_touches t
        WHERE (t.what = 'record'
               AND (t.d BETWEEN date_trunc('year', $start) AND $end
                    OR t.d BETWEEN date_trunc('year', $prev_start) AND $prev_end))
           OR t.what = 'rejects'
           OR (month($start) = 1 AND month($end) = 12))
)
SELECT
    (SELECT struct_pack(name := campaign, start_date := start_date, end_date := end_date,
                        target_m2 := target_m2)
     FROM campaign_of($start, $end) ORDER BY start_date DESC, campaign, district LIMIT 1)
        AS campaign,
    (SELECT count(*) FROM campaign_of($start, $end)) AS campaigns,
    (SELECT list(DISTINCT year(d) ORDER BY year(d)) FROM calendar_days
     WHERE provisional AND (d BETWEEN $start AND $end OR d BETWEEN $prev_start AND $prev_end))
        AS provisional_years,
    data_as_of($start, $end, $prev_start, $prev_end) AS data_as_of,
    (SELECT count(*) FROM report_batches) AS batches
