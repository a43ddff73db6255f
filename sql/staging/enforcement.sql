-- Typed, validated view of one raw enforcement batch (see permits.sql for the shape).
CREATE OR REPLACE TEMP TABLE staged AS
WITH typed AS (
    SELECT
        r AS raw,
        r._row,
        trim(r.case_id)                       AS case_id,
        ur_date(r.filed_date)                 AS filed_date,
        ur_date(r.decided_date)               AS decided_date,
        ur_date(r.closed_date)                AS closed_date,
        street.value                          AS street,
        cat.value                             AS category,
        nullif(trim(r.party_name), '')        AS party_name,
        nullif(trim(r.party_id), '')          AS party_id,
        pen.value                             AS penalty_type,
        ur_amount(r.fine_yuan)                AS fine,
        ur_bool(r.is_major)                   AS major,
        ur_bool(r.legal_review)               AS reviewed,
        ur_bool(r.collective_decision)        AS collective,
        ur_date(r.disclosed_date)             AS disclosed_date,
        outcome.value                         AS review_outcome,
        ur_date(r.review_date)                AS review_date
    FROM raw_batch r
    LEFT JOIN dim_values street  ON street.col = 'street' AND street.raw = r.street
    LEFT JOIN dim_values cat     ON cat.col = 'category' AND cat.raw = r.category
    LEFT JOIN dim_values pen     ON pen.col = 'penalty_type' AND pen.raw = r.penalty_type
    LEFT JOIN dim_values outcome ON outcome.col = 'review_outcome' AND outcome.raw = r.review_outcome
)
SELECT
    _row,
    case_id AS _key,
    case_id, filed_date, decided_date, closed_date, street, category, party_name, party_id,
    penalty_type, coalesce(fine, 0) AS fine_yuan, coalesce(major, FALSE) AS is_major,
    coalesce(reviewed, FALSE) AS legal_review, coalesce(collective, FALSE) AS collective_decision,
    disclosed_date,
    review_outcome, review_date,
    -- A row that passes this cheap test has no problem (ur_fast, sql/macros.sql); only the
    -- others go through the checks, which say what is wrong.
    CASE WHEN ur_fast()
              AND case_id <> '' AND filed_date IS NOT NULL AND street IS NOT NULL AND category IS NOT NULL
              AND ur_parsed(raw.decided_date, decided_date) AND ur_in_order(filed_date, decided_date)
              AND ur_parsed(raw.closed_date, closed_date) AND ur_in_order(filed_date, closed_date)
              AND ur_parsed(raw.penalty_type, penalty_type) AND (raw.fine_yuan IS NULL OR fine >= 0)
              AND ur_parsed(raw.is_major, major) AND ur_parsed(raw.legal_review, reviewed)
              AND ur_parsed(raw.collective_decision, collective) AND ur_parsed(raw.disclosed_date, disclosed_date)
              AND ur_parsed(raw.review_outcome, review_outcome) AND ur_parsed(raw.review_date, review_date)
              AND (review_outcome IS NULL OR review_date IS NOT NULL)
         THEN []
         ELSE list_filter([
        ur_need('case_id', raw.case_id),
        ur_need('filed_date', raw.filed_date),
        ur_check_date('filed_date', raw.filed_date, filed_date),
        ur_check_date('decided_date', raw.decided_date, decided_date),
        ur_check_order('decided_date', raw.decided_date, filed_date, decided_date,
                       '处罚决定日期早于立案日期'),
        ur_check_date('closed_date', raw.closed_date, closed_date),
        ur_check_order('closed_date', raw.closed_date, filed_date, closed_date,
                       '结案日期早于立案日期'),
        ur_need('street', raw.street),
        ur_check_dim('street', raw.street, street, '街道'),
        ur_need('category', raw.category),
        ur_check_dim('category', raw.category, category, '违法类别'),
        ur_check_dim('penalty_type', raw.penalty_type, penalty_type, '处罚种类'),
        ur_check_amount('fine_yuan', raw.fine_yuan),
        ur_check_bool('is_major', raw.is_major),
        ur_check_bool('legal_review', raw.legal_review),
        ur_check_bool('collective_decision', raw.collective_decision),
        ur_check_date('disclosed_date', raw.disclosed_date, disclosed_date),
        ur_check_dim('review_outcome', raw.review_outcome, review_outcome, '复议诉讼结果'),
        ur_check_date('review_date', raw.review_date, review_date),
        ur_problem(review_outcome IS NOT NULL AND ur_blank(raw.review_date), 'review_date',
                   raw.review_date, '填写了复议诉讼结果但缺少结案日期 (required when review_outcome is set)')
    ], lambda p: p IS NOT NULL) END AS problems
FROM typed
