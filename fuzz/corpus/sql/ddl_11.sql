ALTER TABLE sales.uk ADD IF NOT EXISTS PARTITION (Country = 'United Kingdom', InvoiceDateOnly = '2010-12-01')
