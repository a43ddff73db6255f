-- A CSV (UTF-8; other encodings are transcoded first) as text columns c0..cN, read by DuckDB.
-- $skip physical lines above the header are skipped; the table keeps the file's order
-- (insertion order is preserved), so rowid + the header's row + 1 is the spreadsheet row.
-- Quoting is RFC 4180; short rows are padded with NULL. The parallel reader refuses quoted
-- line breaks together with padding, so the caller retries with $parallel = false, and gives
-- a file DuckDB cannot read at all to the Python reader (urbanreport/ingest/readers/csv.py).
CREATE OR REPLACE TEMP TABLE raw_file AS
SELECT *
FROM read_csv($path, header = true, skip = $skip, all_varchar = true, names = $names,
              delim = $delim, quote = '"', escape = '"', null_padding = true,
              encoding = 'utf-8', parallel = $parallel);
