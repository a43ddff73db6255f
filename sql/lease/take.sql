-- Take the district's lease when it is free, expired or already ours (then it is renewed).
UPDATE leases
SET owner = $owner, taken_at = now(), expires_at = now() + to_seconds($seconds)
WHERE district = $district
  AND (owner IS NULL OR expires_at IS NULL OR expires_at < now() OR owner = $owner);
