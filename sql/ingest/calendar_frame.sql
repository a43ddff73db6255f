-- The working-day calendar as just built (urbanreport/core/workdays.py), as temp table
-- calendar_frame for calendar_changed.sql and calendar.sql. $columns is one JSON object of
-- lists, a list per column: one text parameter, read at once (a Python list as a parameter is
-- converted value by value, 0.5 s for a calendar's 4,000 days).
CREATE OR REPLACE TEMP TABLE calendar_frame AS
WITH frame AS (
    SELECT from_json($columns, '{"d": ["DATE"], "is_workday": ["BOOLEAN"],
                                 "workday_seq": ["INTEGER"], "provisional": ["BOOLEAN"]}') AS c
)
SELECT unnest(c.d) AS d, unnest(c.is_workday) AS is_workday,
       unnest(c.workday_seq) AS workday_seq, unnest(c.provisional) AS provisional
FROM frame
