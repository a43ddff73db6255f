-- What a reader itself found wrong in a row (read_problems: a line that is not a JSON object, a
-- formula cell without a cached value, an Excel error value) takes the place of what the
-- staging rules found in the same place: a row problem (column NULL) replaces all of the row's
-- problems (its empty cells say nothing more), a cell problem those of its own column.
UPDATE staged
SET problems = list_concat(
    rp.problems,
    list_filter(staged.problems,
                lambda p: NOT rp.whole_row AND NOT list_contains(rp.columns, p.column_name)))
FROM (
    SELECT _row,
           list({'column_name': column_name, 'raw_value': raw_value, 'reason': reason}
                ORDER BY column_name NULLS FIRST) AS problems,
           bool_or(column_name IS NULL) AS whole_row,
           coalesce(list(column_name) FILTER (WHERE column_name IS NOT NULL), []) AS columns
    FROM read_problems
    GROUP BY _row
) rp
WHERE rp._row = staged._row
