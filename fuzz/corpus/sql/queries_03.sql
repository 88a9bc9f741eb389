-- 4. Orders per region
SELECT Region, COUNT(*) AS order_count
FROM tbsm_red_transformed
GROUP BY Region
ORDER BY order_count DESC, Region;
