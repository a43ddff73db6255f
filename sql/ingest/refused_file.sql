-- A whole file refused (empty, unknown encoding, missing required column): one reject line.
INSERT INTO rejects (batch_id, source, file_name, row_number, column_name, raw_value, reason,
                     district)
VALUES ($batch_id, $source, $file_name, NULL, $column_name, NULL, $reason,
        getvariable('ur_district'))
