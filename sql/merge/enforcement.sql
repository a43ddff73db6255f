-- Upsert one batch's loadable rows into the core table: a record whose key exists in the
-- batch's district (ur_district) is replaced (the newer extract wins), a new key is inserted.
-- MERGE, not a primary key, enforces the key (district, key).
MERGE INTO enforcement AS t
USING (SELECT * EXCLUDE (_row, _key, problems), $batch_id AS batch_id,
              getvariable('ur_district') AS district
       FROM staged WHERE len(problems) = 0) AS s
ON t.district = s.district AND t.case_id = s.case_id
WHEN MATCHED THEN UPDATE SET *
WHEN NOT MATCHED THEN INSERT *;
