-- The first and last year any record is dated in (the working-day calendar must cover them).
SELECT min(year(d)) AS first_year, max(year(d)) AS last_year FROM record_dates()
