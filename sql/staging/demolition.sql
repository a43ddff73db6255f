-- Typed, validated view of one raw demolition batch (see permits.sql for the shape).
CREATE OR REPLACE TEMP TABLE staged AS
WITH typed AS (
    SELECT
        r AS raw,
        r._row,
        trim(r.record_id)              AS record_id,
        street.value                   AS street,
        nullif(trim(r.address), '')    AS address,
        ur_date(r.demolished_date)     AS demolished_date,
        ur_amount(r.area_m2)           AS area_m2,
        btype.value                    AS building_type
    FROM raw_batch r
    LEFT JOIN dim_values street ON street.col = 'street' AND street.raw = r.street
    LEFT JOIN dim_values btype  ON btype.col = 'building_type' AND btype.raw = r.building_type
)
SELECT
    _row,
    record_id AS _key,
    record_id, street, address, demolished_date, area_m2, building_type,
    -- A row that passes this cheap test has no problem (ur_fast, sql/macros.sql); only the
    -- others go through the checks, which say what is wrong.
    CASE WHEN ur_fast()
              AND record_id <> '' AND street IS NOT NULL AND demolished_date IS NOT NULL AND area_m2 > 0
              AND ur_parsed(raw.building_type, building_type)
         THEN []
         ELSE list_filter([
        ur_need('record_id', raw.record_id),
        ur_need('street', raw.street),
        ur_check_dim('street', raw.street, street, '街道'),
        ur_need('demolished_date', raw.demolished_date),
        ur_check_date('demolished_date', raw.demolished_date, demolished_date),
        ur_need('area_m2', raw.area_m2),
        ur_check_amount('area_m2', raw.area_m2),
        ur_problem(area_m2 = 0, 'area_m2', raw.area_m2, '拆除面积必须大于0 (must be > 0)'),
        ur_check_dim('building_type', raw.building_type, building_type, '违建类型')
    ], lambda p: p IS NOT NULL) END AS problems
FROM typed
