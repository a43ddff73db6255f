-- A whole file refused (empty, unknown encoding, missing required column): one reject line.
INSERT INTO rejects VALUES ($batch_id, $source, $file_name, NULL, $column_name, NULL, $reason)
