ALTER TABLE sales.uk DROP PARTITION (Country = 'France')
