-- Within one file the last row of a key wins: an earlier loadable row with the same key is
-- refused (not lost) with a reason pointing at the row that replaces it (in a workbook: its
-- sheet and row). $key_column names the key column(s), e.g. "campaign, street"; a composite
-- key's value is shown joined with "|".
UPDATE staged
SET problems = [{'column_name': $key_column, 'raw_value': staged._key,
                 'reason': '同一文件中该编号在' || coalesce('工作表“' || d.sheet || '”', '')
                           || '第' || ur_sheet_row(d.winner)
                           || '行再次出现，以后一行为准 (superseded by a later row with the same key)'}]
FROM (
    SELECT w._key, w.winner, sh.name AS sheet
    FROM (
        SELECT _key, max(_row) AS winner
        FROM staged
        WHERE len(problems) = 0
        GROUP BY _key
        HAVING count(*) > 1
    ) w
    LEFT JOIN raw_sheets sh ON sh.sheet_no = ur_sheet_no(w.winner)
) d
WHERE staged._key = d._key AND len(staged.problems) = 0 AND staged._row < d.winner
