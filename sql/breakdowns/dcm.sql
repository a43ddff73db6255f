-- 数字城管 breakdowns of the reported cohort by month, source, street and category, for the
-- period and the year before (each cohort followed up to its own period end).
WITH cohort AS (
    SELECT 'cur' AS period, * FROM dcm_cohort($start, $end)
    UNION ALL
    SELECT 'prev', * FROM dcm_cohort($prev_start, $prev_end)
)
SELECT period, month(reported_at) AS month, source, street, category,
       count(*) AS reported,
       count(*) FILTER (WHERE is_registered) AS registered,
       count(*) FILTER (WHERE is_closed) AS closed,
       count(*) FILTER (WHERE is_due AND disposed_at IS NOT NULL AND disposed_at <= deadline_at)
           / nullif(count(*) FILTER (WHERE is_due), 0) AS on_time_disposal_rate
FROM cohort
GROUP BY GROUPING SETS ((period, month(reported_at)), (period, source), (period, street),
                        (period, category))
