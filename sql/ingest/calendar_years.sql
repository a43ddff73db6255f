-- A fingerprint of each year of the working-day calendar (which days are working days, which
-- years are provisional). reports/refresh.py keeps them: a changed year (a holiday list
-- corrected, a year's official calendar arriving) affects every report whose deadlines can
-- fall in it, though no batch touched a record.
SELECT year(d) AS year,
       md5(string_agg(strftime(d, '%Y-%m-%d') || CAST(is_workday AS INTEGER)
                      || CAST(provisional AS INTEGER), ',' ORDER BY d)) AS fingerprint
FROM calendar_days
GROUP BY year(d)
ORDER BY year
