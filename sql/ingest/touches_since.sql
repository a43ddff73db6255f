-- Every touch (batch_touches) of the batches after $batch_id, the last one a refresh saw, with
-- the file each came from.
SELECT t.batch_id, t.source, b.file_name, t.d, t.what
FROM batch_touches t JOIN batches b USING (batch_id)
WHERE t.batch_id > $batch_id
ORDER BY t.batch_id, t.source, t.d NULLS FIRST, t.what
