CREATE EXTERNAL TABLE t (a int) LOCATION '/lake/orders'
