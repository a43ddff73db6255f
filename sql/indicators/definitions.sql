-- Shared building blocks of the indicator definitions (INDICATORS.md / catalogue.toml), used by
-- every file in sql/indicators/ and sql/breakdowns/ so a rule is written once.
-- Periods are closed date ranges [s, e]; a timestamp is "≤ P.end" when it falls before the day
-- after e (times are Asia/Shanghai wall time).

CREATE OR REPLACE TEMP MACRO upto_end(ts, e) AS (ts < CAST(e AS TIMESTAMP) + INTERVAL 1 DAY);

-- 处罚案件: decided, with a penalty, and the penalty is not 不予处罚.
CREATE OR REPLACE TEMP MACRO is_penalty(penalty_type) AS (
    penalty_type IS NOT NULL AND penalty_type <> '不予处罚'
);
-- 复议诉讼纠错: the decision was corrected or the bureau lost.
CREATE OR REPLACE TEMP MACRO is_correction(outcome) AS (outcome IN ('纠错', '败诉'));

-- wd(a, b) — official working days d with a < d ≤ b — is calendar_days.workday_seq of b minus
-- that of a (see urbanreport/workdays.py); the table macros below join it that way.

-- Enforcement cases decided in [s, e], with working days from decision to disclosure.
CREATE OR REPLACE TEMP MACRO enforcement_decided(s, e) AS TABLE
    SELECT x.*, cd.workday_seq - cdec.workday_seq AS disclosure_wd
    FROM district_enforcement x
    LEFT JOIN calendar_days cdec ON cdec.d = x.decided_date
    LEFT JOIN calendar_days cd ON cd.d = x.disclosed_date
    WHERE x.decided_date BETWEEN s AND e;

-- Permits received in [s, e], with whether they were concluded by e and their working days.
CREATE OR REPLACE TEMP MACRO permits_received(s, e) AS TABLE
    SELECT p.*,
           p.decided_date IS NOT NULL AND p.decided_date <= e AS concluded,
           cb.workday_seq - ca.workday_seq AS working_days
    FROM district_permits p
    LEFT JOIN calendar_days ca ON ca.d = p.received_date
    LEFT JOIN calendar_days cb ON cb.d = p.decided_date
    WHERE p.received_date BETWEEN s AND e;

-- The district-wide campaign of a period, per district read: the target of its whole district
-- (全区, 全县: ur_whole_districts) overlapping [s, e], latest start (one row per district).
CREATE OR REPLACE TEMP MACRO campaign_of(s, e) AS TABLE
    SELECT district, campaign, start_date, end_date, target_m2
    FROM district_demolition_targets
    WHERE list_contains(getvariable('ur_whole_districts'), street)
      AND start_date <= e AND end_date >= s
    QUALIFY row_number() OVER (PARTITION BY district ORDER BY start_date DESC, campaign) = 1;

-- Digital city-management cohort: cases reported in [s, e], with their state as of e.
CREATE OR REPLACE TEMP MACRO dcm_cohort(s, e) AS TABLE
    SELECT c.*,
           upto_end(c.registered_at, e) AS is_registered,
           upto_end(c.closed_at, e) AS is_closed,
           upto_end(c.disposed_at, e) AS is_disposed,
           upto_end(c.deadline_at, e) OR upto_end(c.disposed_at, e) AS is_due
    FROM district_dcm_cases c
    WHERE c.reported_at >= CAST(s AS TIMESTAMP) AND upto_end(c.reported_at, e);

-- The date(s) that place a record of each source in a period: a source with none in a period
-- has no data for it (its indicators are NULL, 数据缺失), never zero. Every date by which an
-- indicator counts a record is one (a review concluded in P counts in enforcement.reviews).
-- Every district's (the working-day calendar must cover them all: sql/ingest/data_years.sql);
-- record_dates() keeps those of the districts read (sql/scope.sql).
-- record_key(...) spells a record's key (sources.toml `key`) as one text, as
-- urbanreport/ingest/touches.py spells the keys a batch changed (within its district).
-- A one-part key is the key column itself (key columns are never NULL), so the engine joins on
-- the stored column instead of building a text for every row: the touches of each batch
-- (sql/ingest/touch_dates.sql) read a whole table several times faster.
CREATE OR REPLACE TEMP MACRO record_key(a, b := NULL) AS (
    CASE WHEN b IS NULL THEN CAST(a AS VARCHAR)
         ELSE concat_ws('|', CAST(a AS VARCHAR), CAST(b AS VARCHAR)) END
);
CREATE OR REPLACE TEMP MACRO record_dates_by_key() AS TABLE
    SELECT 'enforcement' AS source, filed_date AS d, record_key(case_id) AS k, batch_id, district
        FROM enforcement
    UNION ALL SELECT 'enforcement', decided_date, record_key(case_id), batch_id, district
        FROM enforcement WHERE decided_date IS NOT NULL
    UNION ALL SELECT 'enforcement', review_date, record_key(case_id), batch_id, district
        FROM enforcement WHERE review_date IS NOT NULL
    UNION ALL SELECT 'permits', received_date, record_key(permit_id), batch_id, district
        FROM permits
    UNION ALL SELECT 'permits', decided_date, record_key(permit_id), batch_id, district
        FROM permits WHERE decided_date IS NOT NULL
    UNION ALL SELECT 'demolition', demolished_date, record_key(record_id), batch_id, district
        FROM demolition
    UNION ALL SELECT 'dcm_cases', CAST(reported_at AS DATE), record_key(case_id), batch_id,
        district FROM dcm_cases
    UNION ALL SELECT 'legal_activities', date, record_key(date, b := title), batch_id, district
        FROM legal_activities
    UNION ALL SELECT 'demolition_targets', CAST(unnest(generate_series(
        CAST(start_date AS TIMESTAMP), CAST(end_date AS TIMESTAMP), INTERVAL 1 DAY)) AS DATE),
        record_key(campaign, b := street), batch_id, district
        FROM demolition_targets;
-- The dates of the districts read, without the key (batch_touches uses the key:
-- sql/ingest/touch_dates.sql).
CREATE OR REPLACE TEMP MACRO record_dates() AS TABLE
    SELECT source, d, batch_id FROM record_dates_by_key()
    WHERE list_contains(getvariable('ur_districts'), district);

CREATE OR REPLACE TEMP MACRO has_data(src, s, e) AS (
    EXISTS (SELECT 1 FROM record_dates() r WHERE r.source = src AND r.d BETWEEN s AND e)
);

-- The rows of a breakdown (sql/breakdowns/): every member it lists, zero or not, and whether
-- the source has any record for it this year (has_cur) and a year earlier (has_prev). A cell
-- of a member whose source has no record at all is NULL (数据缺失), never 0 (see `cell`).
-- By month: the months of [s, e]; the source counts as present in a month with a record in it.
CREATE OR REPLACE TEMP MACRO breakdown_months(src, s, e, ps, pe) AS TABLE
    WITH seen AS (
        SELECT DISTINCT CAST(date_trunc('month', d) AS DATE) AS month_start
        FROM record_dates() WHERE source = src AND (d BETWEEN s AND e OR d BETWEEN ps AND pe)
    )
    SELECT month(m) AS month,
           CAST(m AS DATE) IN (SELECT month_start FROM seen) AS has_cur,
           CAST(m - INTERVAL 1 YEAR AS DATE) IN (SELECT month_start FROM seen) AS has_prev
    FROM (SELECT unnest(generate_series(CAST(s AS TIMESTAMP), CAST(e AS TIMESTAMP),
                                        INTERVAL 1 MONTH)) AS m);

-- By a dimension: the configured members (streets, a dictionary) in their configured order;
-- the source counts as present with any record in the period.
CREATE OR REPLACE TEMP MACRO breakdown_members(src, members, s, e, ps, pe) AS TABLE
    SELECT unnest(members) AS member, unnest(range(len(members))) AS ord,
           has_data(src, s, e) AS has_cur, has_data(src, ps, pe) AS has_prev;

-- A breakdown cell: NULL without data, else the value with 0 where nothing was counted.
CREATE OR REPLACE TEMP MACRO cell(has, v) AS (CASE WHEN has THEN coalesce(v, 0) END);
-- A cell that has no zero (a rate without denominator, a street without a target): stays NULL.
CREATE OR REPLACE TEMP MACRO cell_or_null(has, v) AS (CASE WHEN has THEN v END);

-- The moment the data of a report of [s, e] stands at: the newest modification time of the
-- extracts that delivered the current version of a record dated in what the report reads, the
-- year to date of [s, e] and of [ps, pe] a year earlier (Period.read_ranges: the moment the
-- source system exported it). Reports print it as 数据更新时间 and count the months without data
-- up to it. Never the clock of the ingest (batches.loaded_at): the same files must give the
-- same report in any data directory, ingested at any time. An extract that only brings records
-- the report does not read leaves the report as it is (reports/lineage.py relies on that).
CREATE OR REPLACE TEMP MACRO data_as_of(s, e, ps, pe) AS (
    SELECT max(b.file_mtime)
    FROM district_batches b
    WHERE b.status = 'loaded'
      AND b.batch_id IN (
          SELECT batch_id FROM record_dates()
          WHERE d BETWEEN date_trunc('year', s) AND e OR d BETWEEN date_trunc('year', ps) AND pe)
);
