-- Refused rows of the district for `urbanreport rejects`, newest batch first. $source NULL =
-- all sources.
-- r.* so a warehouse from before the sheet column still lists (sheet is then absent).
SELECT r.* EXCLUDE (district), b.loaded_at
FROM district_rejects r JOIN district_batches b USING (batch_id)
WHERE $source IS NULL OR r.source = $source
ORDER BY b.batch_id DESC, r.row_number, r.column_name
LIMIT $limit
