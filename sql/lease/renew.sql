-- Push the expiry of our lease forward; no row changes when it is no longer ours.
UPDATE leases
SET expires_at = now() + to_seconds($seconds)
WHERE district = $district AND owner = $owner;
