-- orderlake: sample queries over the curated order history.
--
-- Queries 1-6 are the original project's Athena samples and use its table name,
-- tbsm_red_transformed; queries 7-12 are the ones its README describes, over orders.
-- Both names are the same table. Everything here is plain ANSI/Trino SQL: it runs
-- unchanged on Athena, Trino and `orderlake query -f sql/queries.sql`.
-- Each row of the table is one order line; "orders" below counts those rows.

-- 1. Top 10 high-value orders by amount in USD
SELECT OrderID, InvoiceNo, StockCode, Description, CustomerID, Country, InvoiceDateOnly,
       TotalAmount, TotalAmountUSD
FROM tbsm_red_transformed
WHERE OrderTag = 'High'
ORDER BY TotalAmountUSD DESC, OrderID
LIMIT 10;

-- 2. Average order value in USD per country
SELECT Country, AVG(TotalAmountUSD) AS avg_amount_usd
FROM tbsm_red_transformed
GROUP BY Country
ORDER BY avg_amount_usd DESC, Country;

-- 3. Orders and revenue per day
SELECT InvoiceDateOnly, COUNT(*) AS order_count, SUM(TotalAmountUSD) AS revenue_usd
FROM tbsm_red_transformed
GROUP BY InvoiceDateOnly
ORDER BY InvoiceDateOnly;

-- 4. Orders per region
SELECT Region, COUNT(*) AS order_count
FROM tbsm_red_transformed
GROUP BY Region
ORDER BY order_count DESC, Region;

-- 5. Orders per hour of the day (peak ordering hours)
SELECT InvoiceHour, COUNT(*) AS order_count
FROM tbsm_red_transformed
GROUP BY InvoiceHour
ORDER BY InvoiceHour;

-- 6. Every order of one country (reads only that country's partitions)
SELECT *
FROM tbsm_red_transformed
WHERE Country = 'United Kingdom';

-- 7. Revenue, order count and average order value per region
SELECT Region,
       ROUND(SUM(TotalAmountUSD), 2) AS revenue_usd,
       COUNT(*) AS order_count,
       ROUND(AVG(TotalAmountUSD), 2) AS avg_order_value_usd
FROM orders
GROUP BY Region
ORDER BY revenue_usd DESC, Region;

-- 8. Revenue per hour of the day
SELECT InvoiceHour, ROUND(SUM(TotalAmountUSD), 2) AS revenue_usd
FROM orders
GROUP BY InvoiceHour
ORDER BY InvoiceHour;

-- 9. Daily orders and revenue for one country since a date
SELECT InvoiceDateOnly, COUNT(*) AS order_count, ROUND(SUM(TotalAmountUSD), 2) AS revenue_usd
FROM orders
WHERE Country = 'United Kingdom'
  AND InvoiceDateOnly >= DATE '2010-12-01'
GROUP BY InvoiceDateOnly
ORDER BY InvoiceDateOnly;

-- 10. Data quality: orders without a CustomerID (none expected: the ETL keeps only identified customers)
SELECT *
FROM orders
WHERE CustomerID IS NULL;

-- 11. Data quality: orders with a non-positive quantity or unit price (none expected: the ETL drops them)
SELECT *
FROM orders
WHERE Quantity <= 0 OR UnitPrice <= 0;

-- 12. Duplicate OrderIDs (the same stock code twice on one invoice)
SELECT OrderID, InvoiceNo, StockCode, COUNT(*) AS occurrences
FROM orders
GROUP BY OrderID, InvoiceNo, StockCode
HAVING COUNT(*) > 1
ORDER BY occurrences DESC, OrderID;
