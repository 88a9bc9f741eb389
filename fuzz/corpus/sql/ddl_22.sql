CREATE EXTERNAL TABLE t (
  a int,
  b string c int)
LOCATION '/tmp/x'
