-- A CSV file as text columns c0..cN in file order (row numbers come from the table's rowid).
-- Quoting is standard RFC 4180; short rows are padded with NULL; nothing is skipped silently:
-- a file DuckDB cannot parse is refused whole with its error message.
CREATE OR REPLACE TEMP TABLE raw_file AS
SELECT *
FROM read_csv($path, header = true, all_varchar = true, names = $names, delim = ',', quote = '"',
              escape = '"', null_padding = true, encoding = 'utf-8')
