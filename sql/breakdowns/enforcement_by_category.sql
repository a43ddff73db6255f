-- 行政执法 · 各违法类别处罚案件数 (reports/figures.toml: enforcement_category). Every category
-- of the dictionary `enforcement_categories`, in order: penalty cases and fines in
-- [$start, $end] and a year earlier.
WITH counted AS (
    SELECT 'cur' AS period, category, count(*) AS penalty_cases, sum(fine_yuan) AS fines_yuan
    FROM enforcement_decided($start, $end) WHERE is_penalty(penalty_type) GROUP BY ALL
    UNION ALL
    SELECT 'prev', category, count(*), sum(fine_yuan)
    FROM enforcement_decided($prev_start, $prev_end) WHERE is_penalty(penalty_type) GROUP BY ALL
)
SELECT m.member AS category,
       cell(m.has_cur, c.penalty_cases) AS penalty_cases,
       cell(m.has_cur, c.fines_yuan) AS fines_yuan,
       cell(m.has_prev, p.penalty_cases) AS prev_penalty_cases,
       cell(m.has_prev, p.fines_yuan) AS prev_fines_yuan
FROM breakdown_members('enforcement', $enforcement_categories, $start, $end,
                       $prev_start, $prev_end) m
LEFT JOIN counted c ON c.period = 'cur' AND c.category = m.member
LEFT JOIN counted p ON p.period = 'prev' AND p.category = m.member
ORDER BY m.ord
