-- The first and last year any record of any district is dated in (the working-day calendar,
-- shared by the districts, must cover them all).
SELECT min(year(d)) AS first_year, max(year(d)) AS last_year FROM record_dates_by_key()
