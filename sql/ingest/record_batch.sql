-- One batch, of the writing district (ur_district, set where the writer opens).
INSERT INTO batches
VALUES ($batch_id, $source, $file_name, $content_hash, $file_mtime, $rows_read, $rows_loaded,
        $rows_rejected, $status, $message, $loaded_at, getvariable('ur_district'))
