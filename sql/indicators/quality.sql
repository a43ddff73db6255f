-- Data quality per source: row counts over every batch ever ingested, the latest record date of
-- the year to date, and the months of [$start, $end] in which the source has no record, counted
-- up to the moment the data stands at (data_as_of), so the same files always give the same
-- months. Only the row counts read beyond the year to date (reports/lineage.py knows it).
WITH sources AS (
    SELECT unnest($sources) AS source
),
upto AS (SELECT least($end, CAST(data_as_of($start, $end, $prev_start, $prev_end) AS DATE)) AS d),
months AS (
    SELECT CAST(m AS DATE) AS m
    FROM (SELECT unnest(generate_series(CAST(date_trunc('month', $start) AS TIMESTAMP),
                                        CAST(date_trunc('month', (SELECT d FROM upto)) AS TIMESTAMP),
                                        INTERVAL 1 MONTH)) AS m)
),
have AS (
    SELECT DISTINCT source, CAST(date_trunc('month', d) AS DATE) AS m
    FROM record_dates() WHERE d BETWEEN $start AND $end
),
gaps AS (
    SELECT s.source,
           list(strftime(mo.m, '%Y-%m') ORDER BY mo.m) FILTER (WHERE h.m IS NULL) AS months
    FROM sources s CROSS JOIN months mo
    LEFT JOIN have h ON h.source = s.source AND h.m = mo.m
    GROUP BY s.source
),
counts AS (
    SELECT source, sum(rows_read) AS rows_read, sum(rows_loaded) AS rows_loaded,
           sum(rows_rejected) AS rows_rejected, count(*) AS files,
           count(*) FILTER (WHERE status = 'refused') AS files_refused
    FROM district_batches GROUP BY source
),
latest AS (
    SELECT source, max(d) AS latest_record FROM record_dates()
    WHERE d BETWEEN date_trunc('year', $start) AND $end GROUP BY source
)
SELECT s.source,
       coalesce(c.files, 0) AS files,
       coalesce(c.files_refused, 0) AS files_refused,
       coalesce(c.rows_read, 0) AS rows_read,
       coalesce(c.rows_loaded, 0) AS rows_loaded,
       coalesce(c.rows_rejected, 0) AS rows_rejected,
       coalesce(g.months, []) AS months_without_data,
       l.latest_record
FROM sources s
LEFT JOIN counts c USING (source)
LEFT JOIN gaps g USING (source)
LEFT JOIN latest l USING (source)
ORDER BY list_position($sources, s.source)
