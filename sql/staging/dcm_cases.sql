-- Typed, validated view of one raw dcm_cases batch (see permits.sql for the shape).
-- The 大类 must belong to the case's 类型 (事件/部件): dim_values.parent holds that class.
CREATE OR REPLACE TEMP TABLE staged AS
WITH typed AS (
    SELECT
        r AS raw,
        r._row,
        trim(r.case_id)                     AS case_id,
        src.value                           AS source,
        cls.value                           AS case_class,
        cat.value                           AS category,
        nullif(trim(r.subcategory), '')     AS subcategory,
        street.value                        AS street,
        ur_timestamp(r.reported_at)         AS reported_at,
        ur_timestamp(r.registered_at)       AS registered_at,
        ur_timestamp(r.dispatched_at)       AS dispatched_at,
        ur_timestamp(r.deadline_at)         AS deadline_at,
        ur_timestamp(r.disposed_at)         AS disposed_at,
        ur_timestamp(r.closed_at)           AS closed_at,
        ur_int(r.rework_count)              AS rework_int,
        ur_timestamp(r.updated_at)          AS updated_at
    FROM raw_batch r
    LEFT JOIN dim_values src    ON src.col = 'source' AND src.raw = r.source
    LEFT JOIN dim_values cls    ON cls.col = 'case_class' AND cls.raw = r.case_class
    LEFT JOIN dim_values cat    ON cat.col = 'category' AND cat.raw = r.category
                               AND cat.parent = cls.value
    LEFT JOIN dim_values street ON street.col = 'street' AND street.raw = r.street
)
SELECT
    _row,
    case_id AS _key,
    case_id, source, case_class, category, subcategory, street, reported_at, registered_at,
    dispatched_at, deadline_at, disposed_at, closed_at, coalesce(rework_int, 0) AS rework_count,
    updated_at,
    -- A row that passes this cheap test has no problem (ur_fast, sql/macros.sql); only the
    -- others go through the checks, which say what is wrong.
    CASE WHEN ur_fast()
              AND case_id <> '' AND source IS NOT NULL AND case_class IS NOT NULL
              AND category IS NOT NULL AND street IS NOT NULL AND reported_at IS NOT NULL
              AND ur_parsed(raw.registered_at, registered_at)
              AND ur_parsed(raw.dispatched_at, dispatched_at)
              AND ur_parsed(raw.deadline_at, deadline_at)
              AND ur_parsed(raw.disposed_at, disposed_at)
              AND ur_parsed(raw.closed_at, closed_at)
              AND ur_parsed(raw.updated_at, updated_at)
              AND (dispatched_at IS NULL OR deadline_at IS NOT NULL)
              AND (raw.rework_count IS NULL OR rework_int BETWEEN 0 AND 1000)
              AND ur_in_order(reported_at, registered_at)
              AND ur_in_order(greatest(reported_at, registered_at), dispatched_at)
              AND ur_in_order(greatest(reported_at, registered_at, dispatched_at), disposed_at)
              AND ur_in_order(greatest(reported_at, registered_at, dispatched_at, disposed_at),
                              closed_at)
         THEN []
         ELSE list_filter([
        ur_need('case_id', raw.case_id),
        ur_need('source', raw.source),
        ur_check_dim('source', raw.source, source, '案件来源'),
        ur_need('case_class', raw.case_class),
        ur_check_dim('case_class', raw.case_class, case_class, '案件类型（事件/部件）'),
        ur_need('category', raw.category),
        ur_problem(case_class IS NOT NULL AND NOT ur_blank(raw.category) AND category IS NULL,
                   'category', raw.category, '不是该案件类型下的有效大类 (not a category of this case class)'),
        ur_need('street', raw.street),
        ur_check_dim('street', raw.street, street, '街道'),
        ur_need('reported_at', raw.reported_at),
        ur_check_date('reported_at', raw.reported_at, reported_at),
        ur_check_date('registered_at', raw.registered_at, registered_at),
        ur_check_date('dispatched_at', raw.dispatched_at, dispatched_at),
        ur_check_date('deadline_at', raw.deadline_at, deadline_at),
        ur_problem(dispatched_at IS NOT NULL AND ur_blank(raw.deadline_at), 'deadline_at',
                   raw.deadline_at, '已派遣但缺少处置时限 (required when dispatched_at is set)'),
        ur_check_date('disposed_at', raw.disposed_at, disposed_at),
        ur_check_date('closed_at', raw.closed_at, closed_at),
        ur_check_date('updated_at', raw.updated_at, updated_at),
        ur_check_int('rework_count', raw.rework_count, 0, 1000),
        -- lifecycle: reported ≤ registered ≤ dispatched ≤ disposed ≤ closed, where present
        ur_check_order('registered_at', raw.registered_at, reported_at, registered_at,
                       '立案时间早于上报时间'),
        ur_check_order('dispatched_at', raw.dispatched_at,
                       greatest(reported_at, registered_at), dispatched_at,
                       '派遣时间早于上报/立案时间'),
        ur_check_order('disposed_at', raw.disposed_at,
                       greatest(reported_at, registered_at, dispatched_at), disposed_at,
                       '处置完成时间早于此前环节'),
        ur_check_order('closed_at', raw.closed_at,
                       greatest(reported_at, registered_at, dispatched_at, disposed_at), closed_at,
                       '结案时间早于此前环节')
    ], lambda p: p IS NOT NULL) END AS problems
FROM typed
