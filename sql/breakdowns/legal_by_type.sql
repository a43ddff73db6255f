-- 学法普法 · 学法普法活动及参与人次 (reports/figures.toml: legal_type, legal_by_type). Every type
-- of the dictionary `activity_types`, in order: activities and participants in [$start, $end]
-- and a year earlier (prev_).
WITH counted AS (
    SELECT 'cur' AS period, activity_type, count(*) AS events,
           CAST(coalesce(sum(participants), 0) AS BIGINT) AS participants
    FROM district_legal_activities WHERE date BETWEEN $start AND $end GROUP BY ALL
    UNION ALL
    SELECT 'prev', activity_type, count(*), CAST(coalesce(sum(participants), 0) AS BIGINT)
    FROM district_legal_activities WHERE date BETWEEN $prev_start AND $prev_end GROUP BY ALL
)
SELECT m.member AS activity_type,
       cell(m.has_cur, c.events) AS events,
       cell(m.has_cur, c.participants) AS participants,
       cell(m.has_prev, p.events) AS prev_events,
       cell(m.has_prev, p.participants) AS prev_participants
FROM breakdown_members('legal_activities', $activity_types, $start, $end,
                       $prev_start, $prev_end) m
LEFT JOIN counted c ON c.period = 'cur' AND c.activity_type = m.member
LEFT JOIN counted p ON p.period = 'prev' AND p.activity_type = m.member
ORDER BY m.ord
