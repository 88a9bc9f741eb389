-- 6. Every order of one country (reads only that country's partitions)
SELECT *
FROM tbsm_red_transformed
WHERE Country = 'United Kingdom';
