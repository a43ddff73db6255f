-- A machine-written CSV (no blank lines) as text columns c0..cN, read by DuckDB's parallel
-- reader. The table keeps the file's order (insertion order is preserved), so rowid + 2 is the
-- spreadsheet row (header = row 1). Quoting is RFC 4180; short rows are
-- padded with NULL; a file DuckDB cannot parse is refused whole with its error message.
-- (Hand-edited files with blank lines take the Python reader, which counts blank rows.)
CREATE OR REPLACE TEMP TABLE raw_file AS
SELECT *
FROM read_csv($path, header = true, all_varchar = true, names = $names, delim = ',', quote = '"',
              escape = '"', null_padding = true, encoding = 'utf-8');
