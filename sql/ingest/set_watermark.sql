-- Advance the HTTP watermark in the same transaction as the batch that loaded the records.
INSERT OR REPLACE INTO http_watermarks
SELECT $source, greatest($updated_at, (SELECT max(updated_at) FROM http_watermarks WHERE source = $source))
