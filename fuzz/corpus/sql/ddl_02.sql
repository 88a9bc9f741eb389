CREATE EXTERNAL TABLE IF NOT EXISTS tbsm_red_transformed (a int) LOCATION '/lake/orders'
