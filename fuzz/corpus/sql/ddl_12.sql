ALTER TABLE sales.uk ADD PARTITION (Region = 'Europe')
