-- rows read / loaded / rejected of the staged batch.
SELECT count(*) AS rows_read,
       count(*) FILTER (WHERE len(problems) = 0) AS rows_loaded,
       count(*) FILTER (WHERE len(problems) > 0) AS rows_rejected
FROM staged
