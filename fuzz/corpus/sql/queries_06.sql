-- 7. Revenue, order count and average order value per region
SELECT Region,
       ROUND(SUM(TotalAmountUSD), 2) AS revenue_usd,
       COUNT(*) AS order_count,
       ROUND(AVG(TotalAmountUSD), 2) AS avg_order_value_usd
FROM orders
GROUP BY Region
ORDER BY revenue_usd DESC, Region;
