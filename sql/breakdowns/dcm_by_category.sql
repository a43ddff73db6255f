-- 数字城管 · cases reported by category (every category of the dictionary `dcm_categories`, in
-- order) in [$start, $end] and a year earlier (prev_). In no report yet: the full breakdown for
-- the Excel export and the CLI.
WITH counted AS (
    SELECT 'cur' AS period, category, count(*) AS reported
    FROM dcm_cohort($start, $end) GROUP BY ALL
    UNION ALL
    SELECT 'prev', category, count(*) FROM dcm_cohort($prev_start, $prev_end) GROUP BY ALL
)
SELECT m.member AS category,
       cell(m.has_cur, c.reported) AS reported,
       cell(m.has_prev, p.reported) AS prev_reported
FROM breakdown_members('dcm_cases', $dcm_categories, $start, $end, $prev_start, $prev_end) m
LEFT JOIN counted c ON c.period = 'cur' AND c.category = m.member
LEFT JOIN counted p ON p.period = 'prev' AND p.category = m.member
ORDER BY m.ord
