CREATE EXTERNAL TABLE tbsm_red_transformed (a int) LOCATION '/lake/orders'
