-- The record dates, as stored now, of the records whose keys are in temp table changed_keys
-- (urbanreport/ingest/touches.py): run before the upsert (sql/merge/) for the old versions,
-- after it for the new ones; the writer's district's records only (ur_district). Recorded
-- against batch $batch_id.
INSERT INTO batch_touches
SELECT DISTINCT $batch_id, r.source, r.d, 'record', r.district
FROM record_dates_by_key() r
WHERE r.source = $source AND r.district = getvariable('ur_district')
  AND r.k IN (SELECT k FROM changed_keys)
EXCEPT
SELECT batch_id, source, d, what, district FROM batch_touches WHERE batch_id = $batch_id;
