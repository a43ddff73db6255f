-- Refused rows for `urbanreport rejects`, newest batch first. $source NULL = all sources.
-- r.* so a warehouse from before the sheet column still lists (sheet is then absent).
SELECT r.*, b.loaded_at
FROM rejects r JOIN batches b USING (batch_id)
WHERE $source IS NULL OR r.source = $source
ORDER BY b.batch_id DESC, r.row_number, r.column_name
LIMIT $limit
