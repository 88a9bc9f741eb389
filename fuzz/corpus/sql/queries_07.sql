-- 8. Revenue per hour of the day
SELECT InvoiceHour, ROUND(SUM(TotalAmountUSD), 2) AS revenue_usd
FROM orders
GROUP BY InvoiceHour
ORDER BY InvoiceHour;
