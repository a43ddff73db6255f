-- 数字城管 · 各街道数字城管案件办理情况 (reports/figures.toml: dcm_by_street). Every configured
-- street, in order, for the cases reported in [$start, $end] and a year earlier (prev_):
-- reported, registered and closed by the period end, and the on-time disposal rate of the cases
-- due (as dcm.on_time_disposal_rate; NULL when none was due).
WITH cohort AS (
    SELECT 'cur' AS period, * FROM dcm_cohort($start, $end)
    UNION ALL
    SELECT 'prev', * FROM dcm_cohort($prev_start, $prev_end)
),
counted AS (
    SELECT period, street, count(*) AS reported,
           count(*) FILTER (WHERE is_registered) AS registered,
           count(*) FILTER (WHERE is_closed) AS closed,
           count(*) FILTER (WHERE is_due AND disposed_at IS NOT NULL AND disposed_at <= deadline_at)
               / nullif(count(*) FILTER (WHERE is_due), 0) AS on_time_disposal_rate
    FROM cohort GROUP BY ALL
)
SELECT m.member AS street,
       cell(m.has_cur, c.reported) AS reported,
       cell(m.has_cur, c.registered) AS registered,
       cell(m.has_cur, c.closed) AS closed,
       cell_or_null(m.has_cur, c.on_time_disposal_rate) AS on_time_disposal_rate,
       cell(m.has_prev, p.reported) AS prev_reported,
       cell(m.has_prev, p.registered) AS prev_registered,
       cell(m.has_prev, p.closed) AS prev_closed,
       cell_or_null(m.has_prev, p.on_time_disposal_rate) AS prev_on_time_disposal_rate
FROM breakdown_members('dcm_cases', $streets, $start, $end, $prev_start, $prev_end) m
LEFT JOIN counted c ON c.period = 'cur' AND c.street = m.member
LEFT JOIN counted p ON p.period = 'prev' AND p.street = m.member
ORDER BY m.ord
