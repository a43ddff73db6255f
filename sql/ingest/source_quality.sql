-- Per source of the district, all batches ever ingested: rows read / loaded / rejected and files.
SELECT source, count(*) AS files, sum(rows_read) AS rows_read, sum(rows_loaded) AS rows_loaded,
       sum(rows_rejected) AS rows_rejected,
       count(*) FILTER (WHERE status = 'refused') AS files_refused
FROM district_batches GROUP BY source ORDER BY source
