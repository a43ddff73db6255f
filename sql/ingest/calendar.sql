-- Replace the working-day calendar with the rows built in urbanreport/workdays.py.
DELETE FROM calendar_days;
INSERT INTO calendar_days SELECT d, is_workday, workday_seq, provisional FROM calendar_frame;
