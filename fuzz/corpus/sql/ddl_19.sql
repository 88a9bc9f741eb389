DROP TABLE sales.uk
