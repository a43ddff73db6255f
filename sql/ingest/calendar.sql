-- Replace the working-day calendar with the rows built in urbanreport/core/workdays.py
-- (temp table calendar_frame), in one transaction that also bumps the 'calendar' counter:
-- two writers rebuilding at once then conflict, and the later one retries, instead of both
-- filling an empty table (DuckLake has no primary key to refuse the second copy of a day).
UPDATE counters SET value = value + 1 WHERE name = 'calendar';
DELETE FROM calendar_days;
INSERT INTO calendar_days SELECT d, is_workday, workday_seq, provisional FROM calendar_frame;
