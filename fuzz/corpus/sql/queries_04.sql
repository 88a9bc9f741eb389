-- 5. Orders per hour of the day (peak ordering hours)
SELECT InvoiceHour, COUNT(*) AS order_count
FROM tbsm_red_transformed
GROUP BY InvoiceHour
ORDER BY InvoiceHour;
