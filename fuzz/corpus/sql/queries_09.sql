-- 10. Data quality: orders without a CustomerID (none expected: the ETL keeps only identified customers)
SELECT *
FROM orders
WHERE CustomerID IS NULL;
