-- 12. Duplicate OrderIDs (the same stock code twice on one invoice)
SELECT OrderID, InvoiceNo, StockCode, COUNT(*) AS occurrences
FROM orders
GROUP BY OrderID, InvoiceNo, StockCode
HAVING COUNT(*) > 1
ORDER BY occurrences DESC, OrderID;
