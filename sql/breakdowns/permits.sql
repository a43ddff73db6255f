-- 审批服务 breakdowns by month (of receipt) and by permit item, period and year before.
-- Revenue is counted by month of decision, as the indicator is (decided in the period).
WITH received AS (
    SELECT 'cur' AS period, * FROM permits_received($start, $end)
    UNION ALL
    SELECT 'prev', * FROM permits_received($prev_start, $prev_end)
),
counts AS (
    SELECT period, month(received_date) AS month, item_name,
           count(*) AS received,
           count(*) FILTER (WHERE concluded) AS concluded,
           count(*) FILTER (WHERE concluded AND working_days <= promised_days)
               / nullif(count(*) FILTER (WHERE concluded), 0) AS on_time_rate
    FROM received
    GROUP BY GROUPING SETS ((period, month(received_date)), (period, item_name))
),
revenue AS (
    SELECT period, month(decided_date) AS month, item_name, sum(fee_yuan) AS non_tax_revenue_yuan
    FROM (
        SELECT 'cur' AS period, * FROM permits WHERE decided_date BETWEEN $start AND $end
        UNION ALL
        SELECT 'prev', * FROM permits WHERE decided_date BETWEEN $prev_start AND $prev_end
    )
    GROUP BY GROUPING SETS ((period, month(decided_date)), (period, item_name))
)
SELECT coalesce(c.period, r.period) AS period,
       coalesce(c.month, r.month) AS month,
       coalesce(c.item_name, r.item_name) AS item_name,
       coalesce(c.received, 0) AS received,
       coalesce(c.concluded, 0) AS concluded,
       c.on_time_rate,
       coalesce(r.non_tax_revenue_yuan, 0) AS non_tax_revenue_yuan
FROM counts c
FULL JOIN revenue r
  ON c.period = r.period
 AND c.month IS NOT DISTINCT FROM r.month
 AND c.item_name IS NOT DISTINCT FROM r.item_name
