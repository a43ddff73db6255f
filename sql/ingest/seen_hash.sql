-- Was a file with exactly these bytes already ingested for this source?
SELECT count(*) > 0 AS seen FROM batches WHERE source = $source AND content_hash = $content_hash
