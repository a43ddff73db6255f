-- 违法建设治理 breakdowns: sites and area by month and by street, period and year before,
-- plus each street's target in the period's district campaign (same campaign rule as the
-- indicators) and the campaign's cumulative completed area at each month's end.
WITH base AS (
    SELECT 'cur' AS period, month(demolished_date) AS month, street, area_m2
    FROM demolition WHERE demolished_date BETWEEN $start AND $end
    UNION ALL
    SELECT 'prev', month(demolished_date), street, area_m2
    FROM demolition WHERE demolished_date BETWEEN $prev_start AND $prev_end
),
grouped AS (
    SELECT period, month, street, count(*) AS sites, sum(area_m2) AS area_m2
    FROM base GROUP BY GROUPING SETS ((period, month), (period, street))
),
campaign AS (SELECT * FROM campaign_of($start, $end, $whole_district)),
street_targets AS (
    SELECT t.street, t.target_m2
    FROM demolition_targets t JOIN campaign c ON t.start_date = c.start_date
     AND t.end_date = c.end_date AND t.street <> $whole_district
),
months AS (
    SELECT month(m) AS month, last_day(m) AS month_end
    FROM (SELECT unnest(generate_series(CAST($start AS TIMESTAMP), CAST($end AS TIMESTAMP),
                                        INTERVAL 1 MONTH)) AS m)
),
cumulative AS (
    SELECT m.month, coalesce(sum(d.area_m2), 0) AS campaign_cumulative_m2
    FROM months m CROSS JOIN campaign c
    LEFT JOIN demolition d
      ON d.demolished_date BETWEEN c.start_date AND least(c.end_date, m.month_end)
    WHERE m.month_end >= c.start_date
    GROUP BY m.month
)
SELECT g.period, g.month, g.street, g.sites, g.area_m2,
       CASE WHEN g.period = 'cur' AND g.street IS NOT NULL THEN st.target_m2 END AS target_m2,
       CASE WHEN g.period = 'cur' AND g.month IS NOT NULL THEN cu.campaign_cumulative_m2 END
           AS campaign_cumulative_m2
FROM grouped g
LEFT JOIN street_targets st ON st.street = g.street
LEFT JOIN cumulative cu ON cu.month = g.month
