-- Typed, validated view of one raw demolition_targets batch (see permits.sql for the shape).
-- street may be a street or the district-wide word (全区) — dictionary streets_or_district.
CREATE OR REPLACE TEMP TABLE staged AS
WITH typed AS (
    SELECT
        r AS raw,
        r._row,
        trim(r.campaign)          AS campaign,
        street.value              AS street,
        ur_date(r.start_date)     AS start_date,
        ur_date(r.end_date)       AS end_date,
        ur_amount(r.target_m2)    AS target_m2
    FROM raw_batch r
    LEFT JOIN dim_values street ON street.col = 'street' AND street.raw = r.street
)
SELECT
    _row,
    campaign || '|' || street AS _key,
    campaign, street, start_date, end_date, target_m2,
    -- A row that passes this cheap test has no problem (ur_fast, sql/macros.sql); only the
    -- others go through the checks, which say what is wrong.
    CASE WHEN ur_fast()
              AND campaign <> '' AND street IS NOT NULL AND target_m2 > 0
              AND start_date IS NOT NULL AND end_date IS NOT NULL AND ur_in_order(start_date, end_date)
         THEN []
         ELSE list_filter([
        ur_need('campaign', raw.campaign),
        ur_need('street', raw.street),
        ur_check_dim('street', raw.street, street, '街道或“全区”'),
        ur_need('start_date', raw.start_date),
        ur_check_date('start_date', raw.start_date, start_date),
        ur_need('end_date', raw.end_date),
        ur_check_date('end_date', raw.end_date, end_date),
        ur_check_order('end_date', raw.end_date, start_date, end_date, '结束日期早于开始日期'),
        ur_need('target_m2', raw.target_m2),
        ur_check_amount('target_m2', raw.target_m2),
        ur_problem(target_m2 = 0, 'target_m2', raw.target_m2, '目标面积必须大于0 (must be > 0)')
    ], lambda p: p IS NOT NULL) END AS problems
FROM typed
