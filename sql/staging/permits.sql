-- Typed, validated view of one raw permits batch. Input: temp table raw_batch (all text, one row
-- per input row, _row = its row number in the file) and dim_values (raw dictionary text → its
-- normalised value, built by flows/ingest.py). Output: one row per input row, typed, with
-- `problems`, the list of everything wrong with it (empty = loadable).
CREATE OR REPLACE TEMP TABLE staged AS
WITH typed AS (
    SELECT
        r AS raw,
        r._row,
        trim(r.permit_id)                     AS permit_id,
        item.value                            AS item_name,
        nullif(trim(r.applicant), '')         AS applicant,
        chan.value                            AS channel,
        ur_date(r.received_date)              AS received_date,
        ur_date(r.decided_date)               AS decided_date,
        stat.value                            AS status,
        ur_int(r.promised_days)               AS promised_days,
        ur_amount(r.fee_yuan)                 AS fee,
        ur_bool(r.e_license)                  AS licensed
    FROM raw_batch r
    LEFT JOIN dim_values item ON item.col = 'item_name' AND item.raw = r.item_name
    LEFT JOIN dim_values chan ON chan.col = 'channel' AND chan.raw = r.channel
    LEFT JOIN dim_values stat ON stat.col = 'status' AND stat.raw = r.status
)
SELECT
    _row,
    permit_id AS _key,
    permit_id, item_name, applicant, channel, received_date, decided_date, status,
    promised_days, coalesce(fee, 0) AS fee_yuan, coalesce(licensed, FALSE) AS e_license,
    -- A row that passes this cheap test has no problem (ur_fast, sql/macros.sql); only the
    -- others go through the checks, which say what is wrong.
    CASE WHEN ur_fast()
              AND permit_id <> '' AND item_name IS NOT NULL AND channel IS NOT NULL AND status IS NOT NULL
              AND received_date IS NOT NULL AND ur_parsed(raw.decided_date, decided_date)
              AND ur_in_order(received_date, decided_date) AND promised_days BETWEEN 1 AND 60
              AND (raw.fee_yuan IS NULL OR fee >= 0) AND ur_parsed(raw.e_license, licensed)
         THEN []
         ELSE list_filter([
        ur_need('permit_id', raw.permit_id),
        ur_need('item_name', raw.item_name),
        ur_check_dim('item_name', raw.item_name, item_name, '许可事项'),
        ur_need('channel', raw.channel),
        ur_check_dim('channel', raw.channel, channel, '申请方式（网上/窗口）'),
        ur_need('received_date', raw.received_date),
        ur_check_date('received_date', raw.received_date, received_date),
        ur_check_date('decided_date', raw.decided_date, decided_date),
        ur_check_order('decided_date', raw.decided_date, received_date, decided_date,
                       '办结日期早于受理日期'),
        ur_need('status', raw.status),
        ur_check_dim('status', raw.status, status, '办理状态'),
        ur_need('promised_days', raw.promised_days),
        ur_check_int('promised_days', raw.promised_days, 1, 60),
        ur_check_amount('fee_yuan', raw.fee_yuan),
        ur_check_bool('e_license', raw.e_license)
    ], lambda p: p IS NOT NULL) END AS problems
FROM typed
