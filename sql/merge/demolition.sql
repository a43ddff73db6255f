-- Upsert one batch's loadable rows into the core table, keyed by (district, key): the stored
-- version, in the batch's district (ur_district), of each key the batch brings is deleted and
-- every loadable row inserted (the newer extract wins), in the batch's transaction. Not MERGE's
-- UPDATE: a row updated in place makes the next checkpoint rewrite its whole row group, a
-- deleted one only marks it, so a month's file costs what it inserts. The key is enforced here,
-- not by a primary key (staging leaves one row per key).
DELETE FROM demolition AS t USING staged s
WHERE len(s.problems) = 0 AND t.district = getvariable('ur_district') AND t.record_id = s.record_id;
INSERT INTO demolition BY NAME
SELECT * EXCLUDE (_row, _key, problems), $batch_id AS batch_id,
       getvariable('ur_district') AS district
FROM staged WHERE len(problems) = 0;
