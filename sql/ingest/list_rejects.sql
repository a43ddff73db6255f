-- Refused rows for `urbanreport rejects`, newest batch first. $source NULL = all sources.
SELECT r.source, r.file_name, r.row_number, r.column_name, r.raw_value, r.reason, b.loaded_at
FROM rejects r JOIN batches b USING (batch_id)
WHERE $source IS NULL OR r.source = $source
ORDER BY b.batch_id DESC, r.row_number, r.column_name
LIMIT $limit
