-- Does the stored working-day calendar differ from the rows just built (temp table
-- calendar_frame)? Only then is it rewritten, so the usual run writes nothing and meets no
-- other writer.
SELECT EXISTS (
    (SELECT d, is_workday, workday_seq, provisional FROM calendar_frame
     EXCEPT ALL
     SELECT d, is_workday, workday_seq, provisional FROM calendar_days)
    UNION ALL
    (SELECT d, is_workday, workday_seq, provisional FROM calendar_days
     EXCEPT ALL
     SELECT d, is_workday, workday_seq, provisional FROM calendar_frame)
) AS changed
