-- Warehouse schema. Idempotent: run, in one transaction, at every connection that writes.
-- The same DDL serves the embedded DuckDB file and DuckLake, which has no PRIMARY KEY, UNIQUE or
-- CHECK constraints and no sequences. Core tables hold the current version of each record, keyed
-- by district and the data contract's key; the upserts (sql/merge/) keep the keys
-- unique. Batch ids come from the counters table (sql/ingest/next_batch_id.sql), unique across
-- the districts. Every table of records, batches, rejects and watermarks carries `district`,
-- the division code (行政区划代码) of the district that sent it, as its last column; a warehouse
-- from before (no such column) is upgraded by `urbanreport migrate` (urbanreport/core/
-- migrate.py), and refused, with that advice, until then.

-- Counters every writer shares. A transaction that bumps a counter conflicts with any other
-- doing the same (DuckLake checks conflicts per table), and the later one is run again
-- (warehouse.transaction): that is how ids stay unique without a sequence, and how two writers
-- never rebuild the calendar at once. Rows: 'batch_id' (the last id handed out), 'calendar'
-- (how often calendar_days was rebuilt).
CREATE TABLE IF NOT EXISTS counters (
    name  VARCHAR NOT NULL,
    value BIGINT NOT NULL
);

-- One row per file (or HTTP pull) ingested. rows_read = rows_loaded + rows_rejected, as counted
-- from the staged rows in one query (sql/ingest/counts.sql).
CREATE TABLE IF NOT EXISTS batches (
    batch_id      BIGINT NOT NULL,
    source        VARCHAR NOT NULL,
    file_name     VARCHAR NOT NULL,
    content_hash  VARCHAR NOT NULL,
    file_mtime    TIMESTAMP,
    rows_read     BIGINT NOT NULL,
    rows_loaded   BIGINT NOT NULL,
    rows_rejected BIGINT NOT NULL,
    status        VARCHAR NOT NULL,      -- loaded | refused (whole file refused)
    message       VARCHAR,               -- why a whole file was refused, or notes (extra columns)
    loaded_at     TIMESTAMP NOT NULL,    -- Asia/Shanghai wall time
    district      VARCHAR NOT NULL
);

-- A warehouse from before the counters starts after its highest batch id (of every district).
INSERT INTO counters
SELECT 'batch_id', (SELECT coalesce(max(batch_id), 0) FROM batches)
WHERE NOT EXISTS (SELECT 1 FROM counters WHERE name = 'batch_id');
INSERT INTO counters
SELECT 'calendar', 0
WHERE NOT EXISTS (SELECT 1 FROM counters WHERE name = 'calendar');

-- Refused rows, one line per problem found (a row may have several). row_number is the row in
-- the file as a spreadsheet shows it (header = row 1) or the line number for JSON Lines; sheet
-- names the workbook sheet of that row (NULL for files without sheets).
CREATE TABLE IF NOT EXISTS rejects (
    batch_id   BIGINT NOT NULL,
    source     VARCHAR NOT NULL,
    file_name  VARCHAR NOT NULL,
    row_number BIGINT,
    column_name VARCHAR,
    raw_value  VARCHAR,
    reason     VARCHAR NOT NULL,
    sheet      VARCHAR,
    district   VARCHAR NOT NULL
);
-- Warehouses created before rejects had a sheet column.
ALTER TABLE rejects ADD COLUMN IF NOT EXISTS sheet VARCHAR;

CREATE TABLE IF NOT EXISTS permits (
    permit_id     VARCHAR NOT NULL,
    item_name     VARCHAR NOT NULL,
    applicant     VARCHAR,
    channel       VARCHAR NOT NULL,
    received_date DATE NOT NULL,
    decided_date  DATE,
    status        VARCHAR NOT NULL,
    promised_days INTEGER NOT NULL,
    fee_yuan      DECIMAL(14, 2) NOT NULL,
    e_license     BOOLEAN NOT NULL,
    batch_id      BIGINT NOT NULL,
    district      VARCHAR NOT NULL
);

CREATE TABLE IF NOT EXISTS enforcement (
    case_id             VARCHAR NOT NULL,
    filed_date          DATE NOT NULL,
    decided_date        DATE,
    closed_date         DATE,
    street              VARCHAR NOT NULL,
    category            VARCHAR NOT NULL,
    party_name          VARCHAR,
    party_id            VARCHAR,
    penalty_type        VARCHAR,
    fine_yuan           DECIMAL(14, 2) NOT NULL,
    is_major            BOOLEAN NOT NULL,
    legal_review        BOOLEAN NOT NULL,
    collective_decision BOOLEAN NOT NULL,
    disclosed_date      DATE,
    review_outcome      VARCHAR,
    review_date         DATE,
    batch_id            BIGINT NOT NULL,
    district            VARCHAR NOT NULL
);

CREATE TABLE IF NOT EXISTS demolition (
    record_id       VARCHAR NOT NULL,
    street          VARCHAR NOT NULL,
    address         VARCHAR,
    demolished_date DATE NOT NULL,
    area_m2         DECIMAL(14, 2) NOT NULL,
    building_type   VARCHAR,
    batch_id        BIGINT NOT NULL,
    district        VARCHAR NOT NULL
);

CREATE TABLE IF NOT EXISTS demolition_targets (
    campaign   VARCHAR NOT NULL,
    street     VARCHAR NOT NULL,
    start_date DATE NOT NULL,
    end_date   DATE NOT NULL,
    target_m2  DECIMAL(14, 2) NOT NULL,
    batch_id   BIGINT NOT NULL,
    district   VARCHAR NOT NULL
);

CREATE TABLE IF NOT EXISTS dcm_cases (
    case_id       VARCHAR NOT NULL,
    source        VARCHAR NOT NULL,
    case_class    VARCHAR NOT NULL,
    category      VARCHAR NOT NULL,
    subcategory   VARCHAR,
    street        VARCHAR NOT NULL,
    reported_at   TIMESTAMP NOT NULL,
    registered_at TIMESTAMP,
    dispatched_at TIMESTAMP,
    deadline_at   TIMESTAMP,
    disposed_at   TIMESTAMP,
    closed_at     TIMESTAMP,
    rework_count  INTEGER NOT NULL,
    updated_at    TIMESTAMP,
    batch_id      BIGINT NOT NULL,
    district      VARCHAR NOT NULL
);

CREATE TABLE IF NOT EXISTS legal_activities (
    date          DATE NOT NULL,
    activity_type VARCHAR NOT NULL,
    title         VARCHAR NOT NULL,
    participants  INTEGER,
    batch_id      BIGINT NOT NULL,
    district      VARCHAR NOT NULL
);

-- Highest updated_at loaded from the HTTP source: the next pull asks only for newer records.
-- One row per district and source (sql/ingest/set_watermark.sql merges on them).
CREATE TABLE IF NOT EXISTS http_watermarks (
    source     VARCHAR NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    district   VARCHAR NOT NULL
);

-- Official working-day calendar (see urbanreport/workdays.py). workday_seq counts working days
-- up to and including d, so wd(a, b) = seq(b) - seq(a). One row per day (sql/ingest/calendar.sql
-- replaces them all at once).
CREATE TABLE IF NOT EXISTS calendar_days (
    d           DATE NOT NULL,
    is_workday  BOOLEAN NOT NULL,
    workday_seq INTEGER NOT NULL,
    provisional BOOLEAN NOT NULL        -- true where the official calendar was not available
);

-- What each batch touched, written in the batch's own transaction (urbanreport/ingest/touches.py):
-- one row per record date (record_dates() semantics) of every changed record, old and new
-- version, and rows with d NULL (what = 'counts' or 'rejects') for a batch whose rejects, refusal or row
-- counts change the cumulative data-quality figures every report prints. The refresh reads these
-- rows to find the reports a batch affects.
CREATE TABLE IF NOT EXISTS batch_touches (
    batch_id BIGINT NOT NULL,
    source   VARCHAR NOT NULL,
    d        DATE,
    what     VARCHAR NOT NULL,     -- record | counts | rejects
    district VARCHAR NOT NULL
);

-- Who is writing for a district (urbanreport/core/lease.py): one row per district, taken by a
-- run with its owner and an expiry, renewed while it runs, released at its end. A run killed
-- before releasing leaves the row to expire; the next run then takes it over. Rows are only
-- ever UPDATEd once seeded, so two runs taking the same lease at once conflict on commit and
-- the later one sees the earlier one's owner.
CREATE TABLE IF NOT EXISTS leases (
    district   VARCHAR NOT NULL,
    owner      VARCHAR,
    taken_at   TIMESTAMPTZ,
    expires_at TIMESTAMPTZ
);
