-- Dictionary lookups for this batch (registered frame dim_frame: col, raw, value, parent).
-- Unknown raw values have no row, so the staging join leaves them NULL and they are refused.
CREATE OR REPLACE TEMP TABLE dim_values AS
SELECT col, raw, value, parent FROM dim_frame WHERE value IS NOT NULL
