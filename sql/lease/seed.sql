-- The district's lease row, free, if it has none yet. Two runs seeding at once may leave two
-- rows; every statement on leases treats all rows of a district as one.
INSERT INTO leases
SELECT $district, NULL, NULL, NULL
WHERE NOT EXISTS (SELECT 1 FROM leases WHERE district = $district);
