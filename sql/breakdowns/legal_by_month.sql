-- 学法普法 · 各月学法普法活动次数 (reports/figures.toml: legal_monthly). One row per month of
-- [$start, $end] and the same month a year earlier (prev_): activities and participants.
WITH counted AS (
    SELECT 'cur' AS period, month(date) AS month, count(*) AS events,
           CAST(coalesce(sum(participants), 0) AS BIGINT) AS participants
    FROM district_legal_activities WHERE date BETWEEN $start AND $end GROUP BY ALL
    UNION ALL
    SELECT 'prev', month(date), count(*), CAST(coalesce(sum(participants), 0) AS BIGINT)
    FROM district_legal_activities WHERE date BETWEEN $prev_start AND $prev_end GROUP BY ALL
)
SELECT m.month,
       cell(m.has_cur, c.events) AS events,
       cell(m.has_cur, c.participants) AS participants,
       cell(m.has_prev, p.events) AS prev_events,
       cell(m.has_prev, p.participants) AS prev_participants
FROM breakdown_months('legal_activities', $start, $end, $prev_start, $prev_end) m
LEFT JOIN counted c ON c.period = 'cur' AND c.month = m.month
LEFT JOIN counted p ON p.period = 'prev' AND p.month = m.month
ORDER BY m.month
