-- 数字城管 indicators (GB/T 30428) for the cohort of cases reported in [$start, $end], with
-- what happened to them up to the end of $end (dcm.<column>). reported_yoy compares with the
-- same period a year earlier, [$prev_start, $prev_end].
WITH cohort AS (
    SELECT * FROM dcm_cohort($start, $end)
),
stats AS (
    SELECT
        count(*)                                              AS reported,
        count(*) FILTER (WHERE is_registered)                 AS registered,
        count(*) FILTER (WHERE is_closed)                     AS closed,
        count(*) FILTER (WHERE is_due)                        AS due,
        count(*) FILTER (WHERE is_due AND disposed_at IS NOT NULL
                           AND disposed_at <= deadline_at)    AS disposed_on_time,
        count(*) FILTER (WHERE is_disposed)                   AS disposed,
        count(*) FILTER (WHERE is_disposed AND rework_count > 0) AS reworked,
        -- the mean of exact integer microseconds: the same value whatever order the rows come
        -- in (a mean of floating-point hours depends on it in the last digits)
        avg(date_diff('microsecond', dispatched_at, disposed_at))
            FILTER (WHERE is_disposed AND dispatched_at IS NOT NULL) / 3600000000 AS avg_disposal_hours,
        count(*) FILTER (WHERE source = '12345热线')          AS hotline_cases
    FROM cohort
),
previous AS (
    SELECT count(*) AS reported FROM dcm_cohort($prev_start, $prev_end)
),
present AS (
    -- A year-on-year change needs the whole previous period: a year of which only December
    -- was loaded would give a meaningless ratio, so every one of its months must have data.
    SELECT has_data('dcm_cases', $start, $end) AS ok,
           (SELECT count(DISTINCT date_trunc('month', reported_at)) FROM district_dcm_cases
            WHERE reported_at >= CAST($prev_start AS TIMESTAMP) AND upto_end(reported_at, $prev_end))
               = date_diff('month', $prev_start, $prev_end) + 1 AS prev_ok
)
SELECT
    CASE WHEN ok THEN s.reported END                                   AS reported,
    CASE WHEN ok THEN registered END                                   AS registered,
    CASE WHEN ok THEN registered / nullif(s.reported, 0) END           AS registration_rate,
    CASE WHEN ok THEN disposed END                                     AS disposed,
    CASE WHEN ok THEN closed END                                       AS closed,
    CASE WHEN ok THEN closed / nullif(registered, 0) END               AS closure_rate,
    CASE WHEN ok THEN due END                                          AS due,
    CASE WHEN ok THEN disposed_on_time / nullif(due, 0) END            AS on_time_disposal_rate,
    CASE WHEN ok THEN reworked / nullif(disposed, 0) END               AS rework_rate,
    CASE WHEN ok THEN avg_disposal_hours END                           AS avg_disposal_hours,
    CASE WHEN ok THEN hotline_cases END                                AS hotline_cases,
    CASE WHEN ok AND prev_ok
         THEN (s.reported - p.reported) / nullif(p.reported, 0) END    AS reported_yoy
FROM stats s, previous p, present
