-- 学法普法 breakdowns: activities and participants by type and by month, period and year before.
WITH base AS (
    SELECT 'cur' AS period, * FROM legal_activities WHERE date BETWEEN $start AND $end
    UNION ALL
    SELECT 'prev', * FROM legal_activities WHERE date BETWEEN $prev_start AND $prev_end
)
SELECT period, month(date) AS month, activity_type,
       count(*) AS events, coalesce(sum(participants), 0) AS participants
FROM base
GROUP BY GROUPING SETS ((period, month(date)), (period, activity_type))
