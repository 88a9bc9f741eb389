SELECT Country, count(*) FROM tbsm_red_transformed GROUP BY Country ORDER BY Country
