-- Which months of the period ("cur") and of the year before ("prev") each source has at
-- least one record in. A source/month absent here has no data: its figures are 数据缺失.
SELECT source, 'cur' AS period, month(d) AS month
FROM record_dates() WHERE d BETWEEN $start AND $end
GROUP BY ALL
UNION ALL
SELECT source, 'prev', month(d)
FROM record_dates() WHERE d BETWEEN $prev_start AND $prev_end
GROUP BY ALL
