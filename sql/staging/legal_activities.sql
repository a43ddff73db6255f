-- Typed, validated view of one raw legal_activities batch (see permits.sql for the shape).
CREATE OR REPLACE TEMP TABLE staged AS
WITH typed AS (
    SELECT
        r AS raw,
        r._row,
        ur_date(r.date)            AS date,
        atype.value                AS activity_type,
        trim(r.title)              AS title,
        ur_int(r.participants)     AS participants
    FROM raw_batch r
    LEFT JOIN dim_values atype ON atype.col = 'activity_type' AND atype.raw = r.activity_type
)
SELECT
    _row,
    CAST(date AS VARCHAR) || '|' || title AS _key,
    date, activity_type, title, participants,
    -- A row that passes this cheap test has no problem (ur_fast, sql/macros.sql); only the
    -- others go through the checks, which say what is wrong.
    CASE WHEN ur_fast()
              AND date IS NOT NULL AND activity_type IS NOT NULL AND title <> ''
              AND (raw.participants IS NULL OR participants BETWEEN 0 AND 1000000)
         THEN []
         ELSE list_filter([
        ur_need('date', raw.date),
        ur_check_date('date', raw.date, date),
        ur_need('activity_type', raw.activity_type),
        ur_check_dim('activity_type', raw.activity_type, activity_type, '活动类型'),
        ur_need('title', raw.title),
        ur_check_int('participants', raw.participants, 0, 1000000)
    ], lambda p: p IS NOT NULL) END AS problems
FROM typed
