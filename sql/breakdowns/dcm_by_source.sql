-- 数字城管 · 各来源上报案件数及占比 (reports/figures.toml: dcm_source). Every source of the
-- dictionary `dcm_sources` (12345热线 among them), in order: cases reported in [$start, $end]
-- and a year earlier (prev_).
WITH counted AS (
    SELECT 'cur' AS period, source, count(*) AS reported
    FROM dcm_cohort($start, $end) GROUP BY ALL
    UNION ALL
    SELECT 'prev', source, count(*) FROM dcm_cohort($prev_start, $prev_end) GROUP BY ALL
)
SELECT m.member AS source,
       cell(m.has_cur, c.reported) AS reported,
       cell(m.has_prev, p.reported) AS prev_reported
FROM breakdown_members('dcm_cases', $dcm_sources, $start, $end, $prev_start, $prev_end) m
LEFT JOIN counted c ON c.period = 'cur' AND c.source = m.member
LEFT JOIN counted p ON p.period = 'prev' AND p.source = m.member
ORDER BY m.ord
