DESCRIBE sales.uk
