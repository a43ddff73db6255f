-- Upsert one batch's loadable rows into demolition_targets, keyed by (district, campaign, street).
MERGE INTO demolition_targets AS t
USING (SELECT * EXCLUDE (_row, _key, problems), $batch_id AS batch_id,
              getvariable('ur_district') AS district
       FROM staged WHERE len(problems) = 0) AS s
ON t.district = s.district AND t.campaign = s.campaign AND t.street = s.street
WHEN MATCHED THEN UPDATE SET *
WHEN NOT MATCHED THEN INSERT *;
