-- Value-rule parsers of the data contract ("Value rules" in docs/sources.md), shared by every
-- file in sql/staging/. Each returns NULL when the text cannot be read; the staging files turn
-- that NULL into a reject with a reason. TEMP macros so read-only connections can define them.

-- Blank (NULL, empty or only spaces) counts as "not given".
CREATE OR REPLACE TEMP MACRO ur_blank(v) AS (v IS NULL OR trim(v) = '');

-- Dates: 2023-07-05, 2023/7/5, 2023.07.05, 2023年7月5日, Excel serial numbers (45112; five digits,
-- 1927..2173, so a bare year such as 2023 is refused rather than read as a day in 1905),
-- and ISO timestamps (2023-07-05T10:00:00, with or without an offset; converted to Shanghai).
-- The careful path: trimmed text, Excel serials and the Chinese / dotted forms.
CREATE OR REPLACE TEMP MACRO ur_timestamp_slow(v) AS (
    CASE
        WHEN ur_blank(v) THEN NULL
        -- words DuckDB would read as times ('epoch', 'infinity') are not dates
        WHEN NOT (left(trim(v), 1) BETWEEN '0' AND '9') THEN NULL
        WHEN regexp_full_match(trim(v), '[0-9]{5}(\.[0-9]+)?')
            THEN CASE WHEN TRY_CAST(trim(v) AS DOUBLE) BETWEEN 1 AND 2958465
                 THEN TIMESTAMP '1899-12-30 00:00:00'
                      + to_microseconds(CAST(round(TRY_CAST(trim(v) AS DOUBLE) * 86400000000) AS BIGINT))
                 END
        ELSE coalesce(
            timezone('Asia/Shanghai', TRY_CAST(trim(v) AS TIMESTAMPTZ)),
            try_strptime(
                regexp_replace(trim(v), '[T ]+', ' ', 'g'),
                ['%Y.%m.%d %H:%M:%S', '%Y.%m.%d',
                 '%Y年%m月%d日 %H:%M:%S', '%Y年%m月%d日 %H:%M', '%Y年%m月%d日',
                 '%Y年%m月%d日 %H时%M分']))
    END
);

-- The fast paths: the systems' own 2023-07-05 14:03:22 / 2023-07-05 is a plain cast; other
-- common forms (2023/7/5, ISO with T, fractions, offsets or Z) take one cast to TIMESTAMPTZ.
-- The session time zone is Asia/Shanghai (urbanreport/warehouse.py), so a naive value stays
-- local wall time and a value with an offset is converted to it. Everything else takes the
-- careful path. (GLOB, not a regular expression, for the systems' own forms: the same test, at
-- half the cost, on millions of values.)
CREATE OR REPLACE TEMP MACRO ur_timestamp(v) AS (
    CASE
        WHEN v GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9] [0-9][0-9]:[0-9][0-9]:[0-9][0-9]'
             OR v GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]'
            THEN coalesce(TRY_CAST(v AS TIMESTAMP), ur_timestamp_slow(v))
        WHEN left(v, 1) BETWEEN '0' AND '9'
            THEN coalesce(timezone('Asia/Shanghai', TRY_CAST(v AS TIMESTAMPTZ)), ur_timestamp_slow(v))
        ELSE ur_timestamp_slow(v)
    END
);

CREATE OR REPLACE TEMP MACRO ur_date(v) AS (CAST(ur_timestamp(v) AS DATE));

-- Money and areas: 3009408, 3,009,408.00, ¥3,009,408, 3009408元, 1,234.5平方米. At most two
-- decimals; the sign is checked separately so a negative value gets its own reason. A value too
-- large for DECIMAL(14, 2) is NULL (refused with a reason), never an error that stops the load.
CREATE OR REPLACE TEMP MACRO ur_amount_text(v) AS (
    regexp_replace(trim(v), '[¥￥,，\s]|元|人民币|平方米|㎡|m2|m²', '', 'g')
);
CREATE OR REPLACE TEMP MACRO ur_amount_slow(v) AS (
    CASE
        WHEN ur_blank(v) THEN NULL
        WHEN regexp_full_match(ur_amount_text(v), '-?[0-9]+(\.[0-9]{1,2})?')
            THEN TRY_CAST(ur_amount_text(v) AS DECIMAL(14, 2))
    END
);
-- A plain 1234.5 has nothing to trim or strip: one cast, the same value as the careful path.
CREATE OR REPLACE TEMP MACRO ur_amount(v) AS (
    CASE
        WHEN regexp_full_match(v, '[0-9]+(\.[0-9]{1,2})?') THEN TRY_CAST(v AS DECIMAL(14, 2))
        ELSE ur_amount_slow(v)
    END
);

-- Integers: "12", "12.0" (as spreadsheets export them).
CREATE OR REPLACE TEMP MACRO ur_int_slow(v) AS (
    CASE
        WHEN ur_blank(v) THEN NULL
        WHEN regexp_full_match(trim(v), '-?[0-9]+(\.0+)?') THEN TRY_CAST(TRY_CAST(trim(v) AS DOUBLE) AS INTEGER)
    END
);
-- Up to nine plain digits: one cast, the same value as the careful path.
CREATE OR REPLACE TEMP MACRO ur_int(v) AS (
    CASE
        WHEN strlen(v) BETWEEN 1 AND 9 AND NOT v GLOB '*[!0-9]*' THEN TRY_CAST(v AS INTEGER)
        ELSE ur_int_slow(v)
    END
);

-- Yes/no: 是/否, Y/N, yes/no, true/false, 1/0.
CREATE OR REPLACE TEMP MACRO ur_bool_slow(v) AS (
    CASE
        WHEN ur_blank(v) THEN NULL
        WHEN lower(trim(v)) IN ('是', 'y', 'yes', 'true', 't', '1', '1.0') THEN TRUE
        WHEN lower(trim(v)) IN ('否', 'n', 'no', 'false', 'f', '0', '0.0') THEN FALSE
    END
);
-- The words exactly as listed need no trimming nor lower case.
CREATE OR REPLACE TEMP MACRO ur_bool(v) AS (
    CASE
        WHEN v IN ('是', 'y', 'yes', 'true', 't', '1', '1.0') THEN TRUE
        WHEN v IN ('否', 'n', 'no', 'false', 'f', '0', '0.0') THEN FALSE
        ELSE ur_bool_slow(v)
    END
);

-- One problem found in a row: column, raw value and a reason in plain words.
CREATE OR REPLACE TEMP MACRO ur_problem(failed, col, raw, reason) AS (
    CASE WHEN failed THEN {'column_name': col, 'raw_value': raw, 'reason': reason} END
);

-- Standard checks, each yielding a problem struct or NULL.
CREATE OR REPLACE TEMP MACRO ur_need(col, raw) AS (
    ur_problem(ur_blank(raw), col, raw, '必填项为空 (required value is missing)')
);
CREATE OR REPLACE TEMP MACRO ur_check_date(col, raw, parsed) AS (
    -- `parsed` is the staging file's typed value, so each date is parsed once per row
    ur_problem(NOT ur_blank(raw) AND parsed IS NULL, col, raw,
               '日期无法识别 (not a date in an accepted format)')
);
CREATE OR REPLACE TEMP MACRO ur_check_amount(col, raw) AS (
    coalesce(
        ur_problem(NOT ur_blank(raw) AND ur_amount(raw) IS NULL, col, raw,
                   '金额/面积无法识别或过大 (not a number with at most two decimals, or too large)'),
        ur_problem(ur_amount(raw) < 0, col, raw, '金额/面积不能为负数 (negative value)')
    )
);
CREATE OR REPLACE TEMP MACRO ur_check_bool(col, raw) AS (
    ur_problem(NOT ur_blank(raw) AND ur_bool(raw) IS NULL, col, raw,
               '是/否字段无法识别 (expected 是/否, Y/N, true/false or 1/0)')
);
CREATE OR REPLACE TEMP MACRO ur_check_int(col, raw, lo, hi) AS (
    coalesce(
        ur_problem(NOT ur_blank(raw) AND ur_int(raw) IS NULL, col, raw, '不是整数 (not a whole number)'),
        ur_problem(ur_int(raw) NOT BETWEEN lo AND hi, col, raw,
                   '超出允许范围 ' || lo || '..' || hi || ' (out of range)')
    )
);
-- A dictionary value: `norm` is the normalised value looked up in dim_values (NULL = unknown).
CREATE OR REPLACE TEMP MACRO ur_check_dim(col, raw, norm, what) AS (
    ur_problem(NOT ur_blank(raw) AND norm IS NULL, col, raw,
               '不是有效的' || what || ' (not in the dictionary)')
);
CREATE OR REPLACE TEMP MACRO ur_check_order(col, raw, earlier, later, what) AS (
    ur_problem(earlier IS NOT NULL AND later IS NOT NULL AND later < earlier, col, raw,
               what || ' (out of order)')
);

-- A row of a batch: `_row` is the row a user sees, and in a workbook also its sheet, as
-- sheet_no << 40 | row (urbanreport/ingest/readers/sink.py); sheet 0 = a file without sheets.
CREATE OR REPLACE TEMP MACRO ur_sheet_row(r) AS (r & 1099511627775);
CREATE OR REPLACE TEMP MACRO ur_sheet_no(r) AS (r >> 40);

-- The cheap test that lets a clean row skip the checks (the `CASE WHEN ur_fast() AND …` of each
-- file in sql/staging/): built only from the row's typed values, it passes a row only if none of
-- the checks would find a problem in it; every other row goes through the checks, which say what
-- is wrong. Tests redefine ur_fast() as FALSE to prove both ways give every row the same problems.
CREATE OR REPLACE TEMP MACRO ur_fast() AS TRUE;
-- A value that is absent, or was read (a typed value is NULL for blank or unreadable text).
CREATE OR REPLACE TEMP MACRO ur_parsed(raw, typed) AS (raw IS NULL OR typed IS NOT NULL);
-- Two values not out of order (a missing one is in order, as in ur_check_order).
CREATE OR REPLACE TEMP MACRO ur_in_order(earlier, later) AS (coalesce(later >= earlier, TRUE));
