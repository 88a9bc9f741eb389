-- 2. Average order value in USD per country
SELECT Country, AVG(TotalAmountUSD) AS avg_amount_usd
FROM tbsm_red_transformed
GROUP BY Country
ORDER BY avg_amount_usd DESC, Country;
