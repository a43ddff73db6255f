-- 行政执法 · 各月处罚案件数及罚款金额 (reports/figures.toml: enforcement_monthly,
-- enforcement_monthly_brief). One row per month of [$start, $end]: penalty cases and their fines,
-- and the same month a year earlier (prev_). Definitions as enforcement.penalty_cases and
-- enforcement.fines_yuan (sql/indicators/enforcement.sql).
WITH counted AS (
    SELECT 'cur' AS period, month(decided_date) AS month,
           count(*) AS penalty_cases, sum(fine_yuan) AS fines_yuan
    FROM enforcement_decided($start, $end) WHERE is_penalty(penalty_type) GROUP BY ALL
    UNION ALL
    SELECT 'prev', month(decided_date), count(*), sum(fine_yuan)
    FROM enforcement_decided($prev_start, $prev_end) WHERE is_penalty(penalty_type) GROUP BY ALL
)
SELECT m.month,
       cell(m.has_cur, c.penalty_cases) AS penalty_cases,
       cell(m.has_cur, c.fines_yuan) AS fines_yuan,
       cell(m.has_prev, p.penalty_cases) AS prev_penalty_cases,
       cell(m.has_prev, p.fines_yuan) AS prev_fines_yuan
FROM breakdown_months('enforcement', $start, $end, $prev_start, $prev_end) m
LEFT JOIN counted c ON c.period = 'cur' AND c.month = m.month
LEFT JOIN counted p ON p.period = 'prev' AND p.month = m.month
ORDER BY m.month
