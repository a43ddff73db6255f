-- 行政处罚 indicators for the period [$start, $end]. One column per catalogue key
-- (enforcement.<column>); every figure is NULL when the source has no record in the period.
WITH decided AS (
    SELECT * FROM enforcement_decided($start, $end)
),
stats AS (
    SELECT
        count(*) FILTER (WHERE is_penalty(penalty_type))                                AS penalty_cases,
        coalesce(sum(fine_yuan) FILTER (WHERE is_penalty(penalty_type)), 0)             AS fines_yuan,
        count(*) FILTER (WHERE penalty_type = '不予处罚')                               AS no_penalty_cases,
        count(*) FILTER (WHERE is_penalty(penalty_type) AND is_major)                   AS major_cases,
        count(*) FILTER (WHERE is_penalty(penalty_type) AND is_major AND legal_review)  AS major_reviewed,
        count(*) FILTER (WHERE is_penalty(penalty_type) AND is_major AND collective_decision) AS major_collective,
        count(*) FILTER (WHERE is_penalty(penalty_type) AND disclosed_date IS NOT NULL
                           AND disclosure_wd <= 7)                                      AS disclosed_on_time,
        count(*) FILTER (WHERE decided_date - filed_date > 90)                          AS overdue_decisions
    FROM decided
),
reviews AS (
    SELECT count(*) AS reviews,
           count(*) FILTER (WHERE is_correction(review_outcome)) AS corrected
    FROM district_enforcement
    WHERE review_date BETWEEN $start AND $end AND review_outcome IS NOT NULL
),
filed AS (
    SELECT count(*) AS filed_cases FROM district_enforcement WHERE filed_date BETWEEN $start AND $end
),
present AS (SELECT has_data('enforcement', $start, $end) AS ok)
SELECT
    CASE WHEN ok THEN filed_cases END                                   AS filed_cases,
    CASE WHEN ok THEN penalty_cases END                                 AS penalty_cases,
    CASE WHEN ok THEN fines_yuan END                                    AS fines_yuan,
    CASE WHEN ok THEN no_penalty_cases END                              AS no_penalty_cases,
    CASE WHEN ok THEN major_cases END                                   AS major_cases,
    CASE WHEN ok THEN major_reviewed / nullif(major_cases, 0) END       AS major_legal_review_rate,
    CASE WHEN ok THEN major_collective / nullif(major_cases, 0) END     AS major_collective_rate,
    CASE WHEN ok THEN disclosed_on_time / nullif(penalty_cases, 0) END  AS disclosure_on_time_rate,
    CASE WHEN ok THEN overdue_decisions END                             AS overdue_decisions,
    CASE WHEN ok THEN reviews END                                       AS reviews,
    CASE WHEN ok THEN corrected / nullif(reviews, 0) END                AS review_correction_rate
FROM stats, reviews, filed, present
