-- Upsert one batch's loadable rows into legal_activities, keyed by (date, title).
MERGE INTO legal_activities AS t
USING (SELECT * EXCLUDE (_row, _key, problems), $batch_id AS batch_id
       FROM staged WHERE len(problems) = 0) AS s
ON t.date = s.date AND t.title = s.title
WHEN MATCHED THEN UPDATE SET *
WHEN NOT MATCHED THEN INSERT *;
