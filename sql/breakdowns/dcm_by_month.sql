-- 数字城管 · 各月上报案件数 (reports/figures.toml: dcm_monthly, dcm_monthly_brief). One row per
-- month of [$start, $end] and the same month a year earlier (prev_): the cases reported in the
-- month, and of them those registered and closed by the period end (the cohort rule of
-- dcm.reported / dcm.registered / dcm.closed).
WITH cohort AS (
    SELECT 'cur' AS period, * FROM dcm_cohort($start, $end)
    UNION ALL
    SELECT 'prev', * FROM dcm_cohort($prev_start, $prev_end)
),
counted AS (
    SELECT period, month(reported_at) AS month, count(*) AS reported,
           count(*) FILTER (WHERE is_registered) AS registered,
           count(*) FILTER (WHERE is_closed) AS closed
    FROM cohort GROUP BY ALL
)
SELECT m.month,
       cell(m.has_cur, c.reported) AS reported,
       cell(m.has_cur, c.registered) AS registered,
       cell(m.has_cur, c.closed) AS closed,
       cell(m.has_prev, p.reported) AS prev_reported,
       cell(m.has_prev, p.registered) AS prev_registered,
       cell(m.has_prev, p.closed) AS prev_closed
FROM breakdown_months('dcm_cases', $start, $end, $prev_start, $prev_end) m
LEFT JOIN counted c ON c.period = 'cur' AND c.month = m.month
LEFT JOIN counted p ON p.period = 'prev' AND p.month = m.month
ORDER BY m.month
