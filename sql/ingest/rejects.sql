-- Record every problem of every refused row of the batch.
INSERT INTO rejects
SELECT $batch_id, $source, $file_name, _row, p.column_name, p.raw_value, p.reason
FROM (SELECT _row, unnest(problems) AS p FROM staged WHERE len(problems) > 0)
ORDER BY _row
