-- A batch that changes the cumulative data-quality figures sql/indicators/quality.sql counts
-- over every batch ever ingested: $what = 'counts' (rows read / loaded, files refused: the
-- annual report's quality table) or 'rejects' (rows rejected: every report's quality notes).
INSERT INTO batch_touches VALUES ($batch_id, $source, NULL, $what, getvariable('ur_district'));
