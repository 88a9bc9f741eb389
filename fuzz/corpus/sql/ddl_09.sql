SELECT InvoiceNo, count(*) FROM sales.uk GROUP BY InvoiceNo ORDER BY InvoiceNo
