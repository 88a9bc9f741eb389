ALTER TABLE sales.uk ADD PARTITION (Country = 'United Kingdom', InvoiceDateOnly = '2010-12-01')
  PARTITION (country = 'United Kingdom', invoicedateonly = DATE '2010-12-02')
