-- 审批服务 · 各许可事项办理情况 (reports/figures.toml: permits_by_item). Every item of the
-- dictionary `permit_items`, in order, for [$start, $end] and a year earlier (prev_): received,
-- concluded, on-time rate (as permits.on_time_rate; NULL without a concluded permit) and the fees
-- of the permits decided in the period.
WITH received AS (
    SELECT 'cur' AS period, item_name,
           count(*) AS received,
           count(*) FILTER (WHERE concluded) AS concluded,
           count(*) FILTER (WHERE concluded AND working_days <= promised_days)
               / nullif(count(*) FILTER (WHERE concluded), 0) AS on_time_rate
    FROM permits_received($start, $end) GROUP BY ALL
    UNION ALL
    SELECT 'prev', item_name, count(*), count(*) FILTER (WHERE concluded),
           count(*) FILTER (WHERE concluded AND working_days <= promised_days)
               / nullif(count(*) FILTER (WHERE concluded), 0)
    FROM permits_received($prev_start, $prev_end) GROUP BY ALL
),
revenue AS (
    SELECT 'cur' AS period, item_name, sum(fee_yuan) AS non_tax_revenue_yuan
    FROM district_permits WHERE decided_date BETWEEN $start AND $end GROUP BY ALL
    UNION ALL
    SELECT 'prev', item_name, sum(fee_yuan)
    FROM district_permits WHERE decided_date BETWEEN $prev_start AND $prev_end GROUP BY ALL
)
SELECT m.member AS item_name,
       cell(m.has_cur, c.received) AS received,
       cell(m.has_cur, c.concluded) AS concluded,
       cell_or_null(m.has_cur, c.on_time_rate) AS on_time_rate,
       cell(m.has_cur, cr.non_tax_revenue_yuan) AS non_tax_revenue_yuan,
       cell(m.has_prev, p.received) AS prev_received,
       cell(m.has_prev, p.concluded) AS prev_concluded,
       cell_or_null(m.has_prev, p.on_time_rate) AS prev_on_time_rate,
       cell(m.has_prev, pr.non_tax_revenue_yuan) AS prev_non_tax_revenue_yuan
FROM breakdown_members('permits', $permit_items, $start, $end, $prev_start, $prev_end) m
LEFT JOIN received c ON c.period = 'cur' AND c.item_name = m.member
LEFT JOIN received p ON p.period = 'prev' AND p.item_name = m.member
LEFT JOIN revenue cr ON cr.period = 'cur' AND cr.item_name = m.member
LEFT JOIN revenue pr ON pr.period = 'prev' AND pr.item_name = m.member
ORDER BY m.ord
