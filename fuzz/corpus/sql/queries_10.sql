-- 11. Data quality: orders with a non-positive quantity or unit price (none expected: the ETL drops them)
SELECT *
FROM orders
WHERE Quantity <= 0 OR UnitPrice <= 0;
