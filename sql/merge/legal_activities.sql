-- Upsert one batch's loadable rows into legal_activities, keyed by (district, date, title).
MERGE INTO legal_activities AS t
USING (SELECT * EXCLUDE (_row, _key, problems), $batch_id AS batch_id,
              getvariable('ur_district') AS district
       FROM staged WHERE len(problems) = 0) AS s
ON t.district = s.district AND t.date = s.date AND t.title = s.title
WHEN MATCHED THEN UPDATE SET *
WHEN NOT MATCHED THEN INSERT *;
