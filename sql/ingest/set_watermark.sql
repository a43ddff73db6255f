-- Advance the HTTP watermark in the same transaction as the batch that loaded the records; it
-- never moves back. A MERGE, not INSERT OR REPLACE, since DuckLake tables have no primary key.
MERGE INTO http_watermarks AS t
USING (SELECT $source AS source, CAST($updated_at AS TIMESTAMP) AS updated_at) AS s
ON t.source = s.source
WHEN MATCHED THEN UPDATE SET updated_at = greatest(t.updated_at, s.updated_at)
WHEN NOT MATCHED THEN INSERT (source, updated_at) VALUES (s.source, s.updated_at);
