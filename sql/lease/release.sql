-- Give our lease back (a lease taken over by another run after it expired is left alone).
UPDATE leases
SET owner = NULL, taken_at = NULL, expires_at = NULL
WHERE district = $district AND owner = $owner;
