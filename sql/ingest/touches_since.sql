-- Every touch (batch_touches) of the district's batches after $batch_id, the last one a refresh
-- saw, with the file each came from.
SELECT t.batch_id, t.source, b.file_name, t.d, t.what
FROM district_batch_touches t JOIN district_batches b USING (batch_id)
WHERE t.batch_id > $batch_id
ORDER BY t.batch_id, t.source, t.d NULLS FIRST, t.what
