-- 行政执法 · 各街道处罚案件及罚款金额 (reports/figures.toml: enforcement_by_street). Every
-- configured street, in order: penalty cases and fines in [$start, $end] and a year earlier.
WITH counted AS (
    SELECT 'cur' AS period, street, count(*) AS penalty_cases, sum(fine_yuan) AS fines_yuan
    FROM enforcement_decided($start, $end) WHERE is_penalty(penalty_type) GROUP BY ALL
    UNION ALL
    SELECT 'prev', street, count(*), sum(fine_yuan)
    FROM enforcement_decided($prev_start, $prev_end) WHERE is_penalty(penalty_type) GROUP BY ALL
)
SELECT m.member AS street,
       cell(m.has_cur, c.penalty_cases) AS penalty_cases,
       cell(m.has_cur, c.fines_yuan) AS fines_yuan,
       cell(m.has_prev, p.penalty_cases) AS prev_penalty_cases,
       cell(m.has_prev, p.fines_yuan) AS prev_fines_yuan
FROM breakdown_members('enforcement', $streets, $start, $end, $prev_start, $prev_end) m
LEFT JOIN counted c ON c.period = 'cur' AND c.street = m.member
LEFT JOIN counted p ON p.period = 'prev' AND p.street = m.member
ORDER BY m.ord
