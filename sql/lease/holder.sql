-- Who holds the district's lease and until when (NULL owner = free).
SELECT owner, expires_at, expires_at < now() AS expired
FROM leases
WHERE district = $district
ORDER BY owner NULLS LAST
LIMIT 1;
