-- Within one file the last row of a key wins: an earlier loadable row with the same key is
-- refused (not lost) with a reason pointing at the row that replaces it. $key_column names the key
-- column(s), e.g. "campaign, street"; a composite key's value is shown joined with "|".
CREATE OR REPLACE TEMP TABLE staged AS
SELECT * EXCLUDE (winner) REPLACE (
    CASE WHEN len(problems) = 0 AND _row < winner
         THEN [{'column_name': $key_column, 'raw_value': _key,
                'reason': '同一文件中该编号在第' || winner || '行再次出现，以后一行为准 (superseded by a later row with the same key)'}]
         ELSE problems
    END AS problems)
FROM (
    SELECT *, max(CASE WHEN len(problems) = 0 THEN _row END) OVER (PARTITION BY _key) AS winner
    FROM staged
)
