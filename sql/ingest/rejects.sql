-- Record every problem of every refused row of the batch, with the sheet of a workbook row.
INSERT INTO rejects (batch_id, source, file_name, row_number, column_name, raw_value, reason, sheet,
                     district)
SELECT $batch_id, $source, $file_name, ur_sheet_row(s._row), s.p.column_name, s.p.raw_value,
       s.p.reason, sh.name, getvariable('ur_district')
FROM (SELECT _row, unnest(problems) AS p FROM staged WHERE len(problems) > 0) s
LEFT JOIN raw_sheets sh ON sh.sheet_no = ur_sheet_no(s._row)
ORDER BY s._row
