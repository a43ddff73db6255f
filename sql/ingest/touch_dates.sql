-- The record dates, as stored now, of the records whose keys are in temp table changed_keys
-- (urbanreport/ingest/touches.py): run before the MERGE for the old versions, after it for the
-- new ones. Recorded against batch $batch_id.
INSERT INTO batch_touches
SELECT DISTINCT $batch_id, r.source, r.d, 'record'
FROM record_dates_by_key() r
WHERE r.source = $source AND r.k IN (SELECT k FROM changed_keys)
EXCEPT
SELECT batch_id, source, d, what FROM batch_touches WHERE batch_id = $batch_id;
