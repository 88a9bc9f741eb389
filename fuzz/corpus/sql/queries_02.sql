-- 3. Orders and revenue per day
SELECT InvoiceDateOnly, COUNT(*) AS order_count, SUM(TotalAmountUSD) AS revenue_usd
FROM tbsm_red_transformed
GROUP BY InvoiceDateOnly
ORDER BY InvoiceDateOnly;
