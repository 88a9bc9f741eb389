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
