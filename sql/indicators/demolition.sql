-- 违法建设治理 indicators for the period [$start, $end] (demolition.<column>).
-- The campaign is the district-wide (全区) target overlapping the period; its completed area
-- runs from the campaign's start to min(its end, the period's end), so it can differ from the
-- period's own area (a campaign may start mid-year or span two years). Over a city's districts
-- each district's campaign counts: targets and completed areas add up, progress is their
-- ratio (never an average of the districts' progress).
WITH period AS (
    SELECT count(*) AS sites, coalesce(sum(area_m2), 0) AS area_m2
    FROM district_demolition WHERE demolished_date BETWEEN $start AND $end
),
campaign AS (
    SELECT c.target_m2,
           (SELECT coalesce(sum(d.area_m2), 0) FROM district_demolition d
            WHERE d.district = c.district
              AND d.demolished_date BETWEEN c.start_date AND least(c.end_date, $end)) AS done_m2
    FROM campaign_of($start, $end) c
),
campaign_done AS (
    SELECT CAST(sum(target_m2) AS DECIMAL(14, 2)) AS campaign_target_m2,
           coalesce(sum(done_m2), 0) AS campaign_area_m2,
           count(*) > 0 AS has_campaign
    FROM campaign
),
present AS (SELECT has_data('demolition', $start, $end) AS ok)
SELECT
    CASE WHEN ok THEN sites END                                          AS sites,
    CASE WHEN ok THEN area_m2 END                                        AS area_m2,
    campaign_target_m2                                                   AS campaign_target_m2,
    CASE WHEN ok AND has_campaign THEN campaign_area_m2 END              AS campaign_area_m2,
    CASE WHEN ok AND has_campaign
         THEN campaign_area_m2 / nullif(campaign_target_m2, 0) END       AS campaign_progress
FROM period, campaign_done, present
