-- Was a file with exactly these bytes already ingested for this source of this district? The first such batch
-- (no row = never seen), so the operator is told which file it was and whether it was refused.
SELECT file_name, status, loaded_at
FROM district_batches
WHERE source = $source AND content_hash = $content_hash
ORDER BY batch_id
LIMIT 1
