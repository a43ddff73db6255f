-- 审批服务 · 各月审批许可受理及办结数 (reports/figures.toml: permits_monthly). One row per month
-- of [$start, $end] and the same month a year earlier (prev_): permits received in the month and
-- concluded by the period end (as permits.received / permits.concluded), and the fees of the
-- permits decided in the month (as permits.non_tax_revenue_yuan: counted by decision date).
WITH received AS (
    SELECT 'cur' AS period, month(received_date) AS month,
           count(*) AS received, count(*) FILTER (WHERE concluded) AS concluded
    FROM permits_received($start, $end) GROUP BY ALL
    UNION ALL
    SELECT 'prev', month(received_date), count(*), count(*) FILTER (WHERE concluded)
    FROM permits_received($prev_start, $prev_end) GROUP BY ALL
),
revenue AS (
    SELECT 'cur' AS period, month(decided_date) AS month, sum(fee_yuan) AS non_tax_revenue_yuan
    FROM district_permits WHERE decided_date BETWEEN $start AND $end GROUP BY ALL
    UNION ALL
    SELECT 'prev', month(decided_date), sum(fee_yuan)
    FROM district_permits WHERE decided_date BETWEEN $prev_start AND $prev_end GROUP BY ALL
)
SELECT m.month,
       cell(m.has_cur, c.received) AS received,
       cell(m.has_cur, c.concluded) AS concluded,
       cell(m.has_cur, cr.non_tax_revenue_yuan) AS non_tax_revenue_yuan,
       cell(m.has_prev, p.received) AS prev_received,
       cell(m.has_prev, p.concluded) AS prev_concluded,
       cell(m.has_prev, pr.non_tax_revenue_yuan) AS prev_non_tax_revenue_yuan
FROM breakdown_months('permits', $start, $end, $prev_start, $prev_end) m
LEFT JOIN received c ON c.period = 'cur' AND c.month = m.month
LEFT JOIN received p ON p.period = 'prev' AND p.month = m.month
LEFT JOIN revenue cr ON cr.period = 'cur' AND cr.month = m.month
LEFT JOIN revenue pr ON pr.period = 'prev' AND pr.month = m.month
ORDER BY m.month
