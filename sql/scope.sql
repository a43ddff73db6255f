-- The districts a connection reads: every query of sql/indicators, sql/breakdowns and the
-- ingest's look-ups reads the core tables through these views, so that the district filter
-- is written once. The variables are set in one place (urbanreport/core/warehouse.py
-- set_scope): ur_districts, the division codes read (one district, or all of a city's);
-- ur_whole_districts, the words those districts use for a district-wide target (全区, 全县).
-- A writer also sets ur_district, the one district its rows are stamped with.
-- Created after the schema check, on every connection (TEMP: read-only ones too).
CREATE OR REPLACE TEMP VIEW district_permits AS
    SELECT * FROM permits WHERE list_contains(getvariable('ur_districts'), district);
CREATE OR REPLACE TEMP VIEW district_enforcement AS
    SELECT * FROM enforcement WHERE list_contains(getvariable('ur_districts'), district);
CREATE OR REPLACE TEMP VIEW district_demolition AS
    SELECT * FROM demolition WHERE list_contains(getvariable('ur_districts'), district);
CREATE OR REPLACE TEMP VIEW district_demolition_targets AS
    SELECT * FROM demolition_targets WHERE list_contains(getvariable('ur_districts'), district);
CREATE OR REPLACE TEMP VIEW district_dcm_cases AS
    SELECT * FROM dcm_cases WHERE list_contains(getvariable('ur_districts'), district);
CREATE OR REPLACE TEMP VIEW district_legal_activities AS
    SELECT * FROM legal_activities WHERE list_contains(getvariable('ur_districts'), district);
CREATE OR REPLACE TEMP VIEW district_batches AS
    SELECT * FROM batches WHERE list_contains(getvariable('ur_districts'), district);
CREATE OR REPLACE TEMP VIEW district_batch_touches AS
    SELECT * FROM batch_touches WHERE list_contains(getvariable('ur_districts'), district);
CREATE OR REPLACE TEMP VIEW district_rejects AS
    SELECT * FROM rejects WHERE list_contains(getvariable('ur_districts'), district);
