-- Dictionary lookups for this batch, built in urbanreport/ingest/staging.py: $columns is one
-- JSON object with a list per column (col, raw, value, parent; see calendar_frame.sql for why).
-- Unknown raw values have no row, so the staging join leaves them NULL and they are refused.
CREATE OR REPLACE TEMP TABLE dim_values AS
WITH frame AS (
    SELECT from_json($columns, '{"col": ["VARCHAR"], "raw": ["VARCHAR"],
                                 "value": ["VARCHAR"], "parent": ["VARCHAR"]}') AS c
)
SELECT * FROM (
    SELECT unnest(c.col) AS col, unnest(c.raw) AS raw, unnest(c.value) AS value,
           unnest(c.parent) AS parent
    FROM frame
)
WHERE value IS NOT NULL
