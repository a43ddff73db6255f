-- Files are taken in modification-time order, then name order, and a newer file replaces the
-- older version of a record. A file older than the one that loaded the stored version (e.g. last
-- month's export copied into the inbox after this month's was loaded; copies keep their mtime)
-- must not undo it: such a row is refused, naming the newer file, instead of being merged.
-- Input: stored_versions (_row of a loadable staged row, batch_id of the stored version).
UPDATE staged
SET problems = [{'column_name': $key_column, 'raw_value': staged._key,
                 'reason': '已有来自较新文件“' || b.file_name || '”的版本，不被较旧的文件覆盖 '
                           || '(a newer version from ' || b.file_name || ' is already loaded)'}]
FROM stored_versions v
JOIN batches b ON b.batch_id = v.batch_id
WHERE v._row = staged._row
  AND (b.file_mtime > $file_mtime OR (b.file_mtime = $file_mtime AND b.file_name > $file_name))
