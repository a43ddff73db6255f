-- Has a file newer than this one (later mtime, or same mtime and later name) already been
-- loaded for this source of this district? Only then can this file hold versions older than the stored ones;
-- in the usual case (files arrive and load in order) the per-key check is skipped.
SELECT count(*) > 0 AS newer_loaded
FROM district_batches
WHERE source = $source AND status = 'loaded'
  AND (file_mtime > $file_mtime OR (file_mtime = $file_mtime AND file_name > $file_name))
