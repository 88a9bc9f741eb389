-- 9. Daily orders and revenue for one country since a date
SELECT InvoiceDateOnly, COUNT(*) AS order_count, ROUND(SUM(TotalAmountUSD), 2) AS revenue_usd
FROM orders
WHERE Country = 'United Kingdom'
  AND InvoiceDateOnly >= DATE '2010-12-01'
GROUP BY InvoiceDateOnly
ORDER BY InvoiceDateOnly;
