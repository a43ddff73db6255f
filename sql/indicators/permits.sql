-- 行政许可 indicators for the period [$start, $end] (permits.<column>); NULL without data.
WITH received AS (
    SELECT * FROM permits_received($start, $end)
),
stats AS (
    SELECT
        count(*)                                                           AS received,
        count(*) FILTER (WHERE concluded)                                  AS concluded,
        count(*) FILTER (WHERE concluded AND working_days <= promised_days) AS on_time,
        avg(working_days) FILTER (WHERE concluded)                         AS avg_working_days,
        count(*) FILTER (WHERE channel = '网上')                           AS online,
        count(*) FILTER (WHERE concluded AND status = '准予许可')          AS granted,
        count(*) FILTER (WHERE concluded AND status = '准予许可' AND e_license) AS e_licensed
    FROM received
),
revenue AS (
    SELECT coalesce(sum(fee_yuan), 0) AS non_tax_revenue_yuan
    FROM district_permits WHERE decided_date BETWEEN $start AND $end
),
present AS (SELECT has_data('permits', $start, $end) AS ok)
SELECT
    CASE WHEN ok THEN received END                              AS received,
    CASE WHEN ok THEN concluded END                             AS concluded,
    CASE WHEN ok THEN concluded / nullif(received, 0) END       AS completion_rate,
    CASE WHEN ok THEN on_time / nullif(concluded, 0) END        AS on_time_rate,
    CASE WHEN ok THEN avg_working_days END                      AS avg_working_days,
    CASE WHEN ok THEN online / nullif(received, 0) END          AS online_rate,
    CASE WHEN ok THEN granted END                               AS granted,
    CASE WHEN ok THEN e_licensed / nullif(granted, 0) END       AS e_license_rate,
    CASE WHEN ok THEN non_tax_revenue_yuan END                  AS non_tax_revenue_yuan
FROM stats, revenue, present
