-- raw_csv keeps the file's order (insertion order is preserved), so its rowid numbers the rows.
-- Columns DuckDB added for cells beyond the header (checked empty by the caller) are dropped.
CREATE OR REPLACE TEMP TABLE raw_file AS
SELECT CAST(rowid AS BIGINT) + 2 AS _row, COLUMNS(lambda c: regexp_full_match(c, 'c[0-9]+')) FROM raw_csv;
DROP TABLE raw_csv;
