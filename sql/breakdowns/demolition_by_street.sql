-- 违法建设治理 · 各街道拆违面积与任务目标 (reports/figures.toml: demolition_streets). Every
-- configured street, in order: sites and area demolished in [$start, $end] and a year earlier
-- (prev_), and the street's target in the period's district campaign (NULL when the campaign
-- sets none per street, and for the year before).
WITH counted AS (
    SELECT 'cur' AS period, street, count(*) AS sites, sum(area_m2) AS area_m2
    FROM district_demolition WHERE demolished_date BETWEEN $start AND $end GROUP BY ALL
    UNION ALL
    SELECT 'prev', street, count(*), sum(area_m2)
    FROM district_demolition WHERE demolished_date BETWEEN $prev_start AND $prev_end GROUP BY ALL
),
street_targets AS (
    SELECT t.street, t.target_m2
    FROM district_demolition_targets t
    JOIN campaign_of($start, $end) c
      ON t.district = c.district AND t.start_date = c.start_date AND t.end_date = c.end_date
    WHERE NOT list_contains(getvariable('ur_whole_districts'), t.street)
)
SELECT m.member AS street,
       cell(m.has_cur, c.sites) AS sites,
       cell(m.has_cur, c.area_m2) AS area_m2,
       cell_or_null(m.has_cur, t.target_m2) AS target_m2,
       cell(m.has_prev, p.sites) AS prev_sites,
       cell(m.has_prev, p.area_m2) AS prev_area_m2,
       CAST(NULL AS DECIMAL(14, 2)) AS prev_target_m2
FROM breakdown_members('demolition', $streets, $start, $end, $prev_start, $prev_end) m
LEFT JOIN counted c ON c.period = 'cur' AND c.street = m.member
LEFT JOIN counted p ON p.period = 'prev' AND p.street = m.member
LEFT JOIN street_targets t ON t.street = m.member
ORDER BY m.ord
