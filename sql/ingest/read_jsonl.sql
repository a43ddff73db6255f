-- JSON Lines, read as one text column per line so every line keeps its line number (_row) and a
-- malformed line is refused on its own instead of failing the whole file. Blank lines are skipped.
CREATE OR REPLACE TEMP TABLE jsonl_all AS
SELECT line
FROM read_csv($path, header = false, columns = {'line': 'VARCHAR'}, delim = chr(31), quote = '',
              escape = '', auto_detect = false);

CREATE OR REPLACE TEMP TABLE jsonl_lines AS
SELECT CAST(rowid AS BIGINT) + 1 AS _row,
       line,
       CASE WHEN json_valid(line) THEN json_type(line) = 'OBJECT' ELSE FALSE END AS valid
FROM jsonl_all;
DELETE FROM jsonl_lines WHERE line IS NULL OR trim(line) = '';

-- Every key seen in the file, with the line it first appears on (for header mapping).
CREATE OR REPLACE TEMP TABLE jsonl_keys AS
SELECT key, min(_row) AS first_line
FROM (SELECT _row, unnest(json_keys(line)) AS key FROM jsonl_lines WHERE valid)
GROUP BY key;
