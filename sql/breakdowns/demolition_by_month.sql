-- 违法建设治理 · 专项行动累计拆违面积与目标 (reports/figures.toml: demolition_progress). One row
-- per month of [$start, $end]: sites and area demolished in the month and the same month a year
-- earlier (prev_), and the area completed in the period's district campaign (same campaign rule
-- as demolition.campaign_area_m2) from its start to the month's end: NULL before the campaign,
-- and for the year before (kept so that every measure has its prev_ twin).
WITH counted AS (
    SELECT 'cur' AS period, month(demolished_date) AS month,
           count(*) AS sites, sum(area_m2) AS area_m2
    FROM district_demolition WHERE demolished_date BETWEEN $start AND $end GROUP BY ALL
    UNION ALL
    SELECT 'prev', month(demolished_date), count(*), sum(area_m2)
    FROM district_demolition WHERE demolished_date BETWEEN $prev_start AND $prev_end GROUP BY ALL
),
campaign AS (SELECT * FROM campaign_of($start, $end)),
month_ends AS (
    SELECT month(m) AS month, last_day(m) AS month_end
    FROM (SELECT unnest(generate_series(CAST($start AS TIMESTAMP), CAST($end AS TIMESTAMP),
                                        INTERVAL 1 MONTH)) AS m)
),
cumulative AS (
    SELECT e.month, coalesce(sum(d.area_m2), 0) AS campaign_cumulative_m2
    FROM month_ends e CROSS JOIN campaign c
    LEFT JOIN district_demolition d
      ON d.district = c.district
     AND d.demolished_date BETWEEN c.start_date AND least(c.end_date, e.month_end)
    WHERE e.month_end >= c.start_date
    GROUP BY e.month
)
SELECT m.month,
       cell(m.has_cur, c.sites) AS sites,
       cell(m.has_cur, c.area_m2) AS area_m2,
       cell_or_null(m.has_cur, cu.campaign_cumulative_m2) AS campaign_cumulative_m2,
       cell(m.has_prev, p.sites) AS prev_sites,
       cell(m.has_prev, p.area_m2) AS prev_area_m2,
       CAST(NULL AS DECIMAL(38, 2)) AS prev_campaign_cumulative_m2
FROM breakdown_months('demolition', $start, $end, $prev_start, $prev_end) m
LEFT JOIN counted c ON c.period = 'cur' AND c.month = m.month
LEFT JOIN counted p ON p.period = 'prev' AND p.month = m.month
LEFT JOIN cumulative cu ON cu.month = m.month
ORDER BY m.month
