-- Advance the HTTP watermark in the same transaction as the batch that loaded the records; it
-- never moves back. One row per (district, source). A MERGE, not INSERT OR REPLACE, since
-- DuckLake tables have no primary key.
MERGE INTO http_watermarks AS t
USING (SELECT $source AS source, CAST($updated_at AS TIMESTAMP) AS updated_at,
              getvariable('ur_district') AS district) AS s
ON t.district = s.district AND t.source = s.source
WHEN MATCHED THEN UPDATE SET updated_at = greatest(t.updated_at, s.updated_at)
WHEN NOT MATCHED THEN INSERT (source, updated_at, district)
    VALUES (s.source, s.updated_at, s.district);
