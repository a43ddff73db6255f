-- 行政执法 breakdowns: penalty cases and fines by month, street and category, for the period
-- ("cur") and the same period a year earlier ("prev"). flows/indicators.py pivots the rows into
-- enforcement_by_month / _by_street / _by_category tables.
WITH base AS (
    SELECT 'cur' AS period, month(decided_date) AS month, street, category, fine_yuan
    FROM enforcement_decided($start, $end) WHERE is_penalty(penalty_type)
    UNION ALL
    SELECT 'prev', month(decided_date), street, category, fine_yuan
    FROM enforcement_decided($prev_start, $prev_end) WHERE is_penalty(penalty_type)
)
SELECT period, month, street, category,
       count(*) AS penalty_cases, sum(fine_yuan) AS fines_yuan
FROM base
GROUP BY GROUPING SETS ((period, month), (period, street), (period, category))
