-- The next batch id, in a transaction of its own (urbanreport/core/warehouse.py next_batch_id):
-- the same on the embedded file and on DuckLake, which has no sequences. Two writers taking an
-- id at once conflict on this row; the later one retries and gets the following id.
UPDATE counters SET value = value + 1 WHERE name = 'batch_id';
SELECT value AS batch_id FROM counters WHERE name = 'batch_id';
