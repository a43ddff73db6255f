-- 学法普法 indicators for the period [$start, $end] (legal.<column>); NULL without data.
WITH stats AS (
    SELECT
        count(*) FILTER (WHERE activity_type IN ('党组学法', '中心组学习')) AS study_sessions,
        count(*) FILTER (WHERE activity_type = '执法培训')                 AS trainings,
        count(*) FILTER (WHERE activity_type = '普法宣传')                 AS publicity_events,
        coalesce(sum(participants), 0)                                     AS participants
    FROM district_legal_activities
    WHERE date BETWEEN $start AND $end
),
present AS (SELECT has_data('legal_activities', $start, $end) AS ok)
SELECT
    CASE WHEN ok THEN study_sessions END    AS study_sessions,
    CASE WHEN ok THEN trainings END         AS trainings,
    CASE WHEN ok THEN publicity_events END  AS publicity_events,
    CASE WHEN ok THEN participants END      AS participants
FROM stats, present
