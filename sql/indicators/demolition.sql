-- 违法建设治理 indicators for the period [$start, $end] (demolition.<column>).
-- The campaign is the district-wide ($whole_district) target overlapping the period; its
-- completed area runs from the campaign's start to min(its end, the period's end), so it can
-- differ from the period's own area (a campaign may start mid-year or span two years).
WITH period AS (
    SELECT count(*) AS sites, coalesce(sum(area_m2), 0) AS area_m2
    FROM demolition WHERE demolished_date BETWEEN $start AND $end
),
campaign AS (
    SELECT * FROM campaign_of($start, $end, $whole_district)
),
campaign_done AS (
    SELECT any_value(c.target_m2) AS campaign_target_m2,
           coalesce(sum(d.area_m2), 0) AS campaign_area_m2,
           count(c.campaign) > 0 AS has_campaign
    FROM campaign c
    LEFT JOIN demolition d
      ON d.demolished_date BETWEEN c.start_date AND least(c.end_date, $end)
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
