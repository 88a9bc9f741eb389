"""The Athena API of `orderlake aws`, through boto3, the AWS CLI v1 (`aws`, pip) and v2
(/usr/bin/aws, Debian): the seed's DDL and six queries over a lake made by the etl, results
paged and equal to `orderlake query --format csv`, failures with a reason, cancelling, the
result files in the results bucket, refused output locations, persistence across a restart,
named queries, table metadata, and a catalog without a lake."""
import csv
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

BINARY = os.environ.get("ORDERLAKE_BINARY", "")
SOURCE = os.environ.get("ORDERLAKE_SOURCE_DIR", "")
if not BINARY or not SOURCE:
    raise SystemExit("ORDERLAKE_BINARY and ORDERLAKE_SOURCE_DIR must be set (ctest sets them)")

CREDS = {"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test", "AWS_DEFAULT_REGION": "us-east-1"}
CLIS = [c for c in (shutil.which("aws"), "/usr/bin/aws") if c and os.path.exists(c)]

SEED_DDL = """CREATE EXTERNAL TABLE IF NOT EXISTS `default`.`tbsm_red_transformed` (
  `CustomerID` int, `OrderID` string, `InvoiceNo` string, `StockCode` string, `Description` string,
  `Quantity` int, `UnitPrice` double, `TotalAmount` double, `TotalAmountUSD` double,
  `OrderTag` string, `InvoiceDate` string, `InvoiceHour` int, `Region` string,
  `Country` string, `InvoiceDateOnly` date)
PARTITIONED BY (`Country` string, `InvoiceDateOnly` date)
STORED AS PARQUET
LOCATION '{location}'
TBLPROPERTIES ('parquet.compression'='SNAPPY')"""


def six_queries():
    """The first six statements of sql/queries.sql (the seed's Athena samples)."""
    text = open(os.path.join(SOURCE, "sql", "queries.sql")).read()
    text = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("--"))
    statements = [s.strip() for s in text.split(";") if s.strip()]
    return statements[:6]


def build_lake(data, count=3000):
    inp = os.path.join(data, "..", "in")
    for args in (["generate", "--count", str(count), "--seed", "11", "--start", "2010-12-01", "--days", "4",
                  "--out", inp], ["etl", "--input", inp, "--lake", os.path.join(data, "lake"), "--no-progress"]):
        subprocess.run([BINARY, *args], check=True, capture_output=True, timeout=300)


class Aws:
    """`orderlake aws --data-dir DATA --listen 127.0.0.1:0`, stopped by stop()."""

    def __init__(self, data, extra=()):
        self.proc = subprocess.Popen([BINARY, "aws", "--data-dir", data, "--listen", "127.0.0.1:0", *extra],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        deadline, line = time.time() + 30, ""
        while time.time() < deadline:
            line = self.proc.stdout.readline()
            m = re.search(r"AWS endpoint at (http://\S+)", line)
            if m:
                self.url = m.group(1)
                self.athena = boto3.client("athena", endpoint_url=self.url, region_name="us-east-1",
                                           aws_access_key_id="test", aws_secret_access_key="test",
                                           config=Config(retries={"max_attempts": 1}))
                return
            if self.proc.poll() is not None:
                break
        self.stop()
        raise RuntimeError(f"orderlake aws did not start: {line!r} {self.proc.stderr.read()[-2000:]}")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        for f in (self.proc.stdout, self.proc.stderr):
            f.close()

    def wait(self, qid, timeout=120):
        deadline = time.time() + timeout
        while time.time() < deadline:
            e = self.athena.get_query_execution(QueryExecutionId=qid)["QueryExecution"]
            if e["Status"]["State"] in ("SUCCEEDED", "FAILED", "CANCELLED"):
                return e
            time.sleep(0.05)
        raise AssertionError(f"{qid} did not finish in {timeout} s")

    def run(self, sql, database="default", **kw):
        qid = self.athena.start_query_execution(QueryString=sql, QueryExecutionContext={"Database": database},
                                                **kw)["QueryExecutionId"]
        return qid, self.wait(qid)

    def rows(self, qid, page=7):
        """Every row (header included) through GetQueryResults pages of `page` rows."""
        out, token, pages, meta = [], None, 0, None
        while True:
            kw = {"NextToken": token} if token else {}
            r = self.athena.get_query_results(QueryExecutionId=qid, MaxResults=page, **kw)
            assert len(r["ResultSet"]["Rows"]) <= page
            meta = r["ResultSet"]["ResultSetMetadata"]["ColumnInfo"]
            out += [[d.get("VarCharValue") for d in row["Data"]] for row in r["ResultSet"]["Rows"]]
            pages += 1
            token = r.get("NextToken")
            if not token:
                return out, meta, pages


def cli(exe, url, *args):
    env = dict(os.environ, **CREDS)
    r = subprocess.run([exe, "--endpoint-url", url, "--output", "json", *args], capture_output=True, text=True,
                       env=env, timeout=120)
    return r.returncode, r.stdout, r.stderr


def same_rows(got, want):
    """Equal rows; numbers with a fraction may differ in their last digits (a sum's order
    differs with DuckDB's thread count: the API's workers use --sql-threads, the CLI all)."""
    if len(got) != len(want):
        return False
    for g, w in zip(got, want):
        if len(g) != len(w):
            return False
        for a, b in zip(g, w):
            if a == b:
                continue
            try:
                fa, fb = float(a), float(b)
            except (TypeError, ValueError):
                return False
            if "." not in a or abs(fa - fb) > 1e-9 * max(1.0, abs(fb)):
                return False
    return True


def query_csv(data, sql):
    r = subprocess.run([BINARY, "query", "--data-dir", data, "--format", "csv", sql], capture_output=True, text=True,
                       timeout=300)
    assert r.returncode == 0, r.stderr
    rows = list(csv.reader(io.StringIO(r.stdout)))
    return rows


class AthenaApi(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.root = tempfile.mkdtemp(prefix="orderlake-athena-")
        cls.data = os.path.join(cls.root, "data")
        os.makedirs(cls.data)
        build_lake(cls.data)
        cls.aws = Aws(cls.data, ["--sql-timeout", "60"])
        qid, e = cls.aws.run(SEED_DDL.format(location="s3://orderlake-lake/orders/"))
        assert e["Status"]["State"] == "SUCCEEDED", e
        qid, e = cls.aws.run("MSCK REPAIR TABLE tbsm_red_transformed")
        assert e["Status"]["State"] == "SUCCEEDED", e

    @classmethod
    def tearDownClass(cls):
        cls.aws.stop()
        shutil.rmtree(cls.root, ignore_errors=True)

    def test_six_queries_paged_equal_orderlake_query(self):
        for i, sql in enumerate(six_queries()):
            qid, e = self.aws.run(sql)
            self.assertEqual(e["Status"]["State"], "SUCCEEDED", (i, e["Status"]))
            self.assertEqual(e["StatementType"], "DML")
            self.assertTrue(e["ResultConfiguration"]["OutputLocation"].startswith("s3://orderlake-athena-results/"))
            self.assertGreater(e["Statistics"]["DataScannedInBytes"], 0)
            self.assertGreaterEqual(e["Statistics"]["TotalExecutionTimeInMillis"],
                                    e["Statistics"]["EngineExecutionTimeInMillis"])
            rows, meta, pages = self.aws.rows(qid, page=7)
            want = query_csv(self.data, sql)
            self.assertEqual(rows[0], want[0], i)  # the header row first
            got = [[v if v is not None else "" for v in r] for r in rows[1:]]
            if i == 5:  # no ORDER BY
                got, want = sorted(got), [want[0]] + sorted(want[1:])
            self.assertTrue(same_rows(got, want[1:]), (i, got[:5], want[1:6]))
            self.assertEqual(pages, len(rows) // 7 + (1 if len(rows) % 7 else 0) or 1)
            self.assertEqual([c["Name"] for c in meta], want[0])
            # The result file in the results bucket: Athena's quoting.
            out = os.path.join(self.data, "s3", "orderlake-athena-results", qid + ".csv")
            self.assertTrue(os.path.exists(out), out)
            self.assertTrue(os.path.exists(out + ".metadata"))
            with open(out) as f:
                self.assertEqual(f.readline().rstrip("\n"), ",".join('"%s"' % c for c in want[0]))

    def test_column_types(self):
        qid, e = self.aws.run("SELECT 'a' AS s, CAST(1 AS BIGINT) AS b, 2 AS i, 1.5::DOUBLE AS d, DATE '2020-01-02' AS dt,"
                              " TIMESTAMP '2020-01-02 03:04:05' AS ts, true AS bo, NULL::VARCHAR AS n, '' AS e,"
                              " 1.25::DECIMAL(10,2) AS dec, [1,2] AS arr")
        self.assertEqual(e["Status"]["State"], "SUCCEEDED", e["Status"])
        rows, meta, _ = self.aws.rows(qid, page=1000)
        types = {c["Name"]: c["Type"] for c in meta}
        self.assertEqual(types, {"s": "varchar", "b": "bigint", "i": "integer", "d": "double", "dt": "date",
                                 "ts": "timestamp", "bo": "boolean", "n": "varchar", "e": "varchar",
                                 "dec": "decimal", "arr": "array"})
        dec = [c for c in meta if c["Name"] == "dec"][0]
        self.assertEqual((dec["Precision"], dec["Scale"]), (10, 2))
        self.assertEqual(rows[1][7], None)  # NULL: no VarCharValue
        self.assertEqual(rows[1][8], "")    # the empty string is one

    def test_failures_have_a_reason(self):
        for sql, words in (("SELEC 1", "syntax"), ("SELECT * FROM no_such_table", "no_such_table")):
            qid, e = self.aws.run(sql)
            self.assertEqual(e["Status"]["State"], "FAILED", sql)
            self.assertIn(words, e["Status"]["StateChangeReason"].lower())
            self.assertEqual(e["Status"]["AthenaError"]["ErrorCategory"], 2)
            with self.assertRaises(ClientError) as c:
                self.aws.athena.get_query_results(QueryExecutionId=qid)
            self.assertEqual(c.exception.response["Error"]["Code"], "InvalidRequestException")

    def test_stop_a_long_query(self):
        qid = self.aws.athena.start_query_execution(
            QueryString="SELECT sum(hash(i)) FROM range(100000000000) t(i)")["QueryExecutionId"]
        deadline = time.time() + 30
        while self.aws.athena.get_query_execution(QueryExecutionId=qid)["QueryExecution"]["Status"]["State"] != "RUNNING":
            self.assertLess(time.time(), deadline)
            time.sleep(0.05)
        t0 = time.time()
        self.aws.athena.stop_query_execution(QueryExecutionId=qid)
        e = self.aws.wait(qid, timeout=20)
        self.assertEqual(e["Status"]["State"], "CANCELLED")
        self.assertLess(time.time() - t0, 10)

    def test_refused_output_locations(self):
        for loc in ("file:///etc/", "s3://orderlake-raw/../", "/etc", "s3://no-such-bucket/x/"):
            with self.assertRaises(ClientError, msg=loc) as c:
                self.aws.athena.start_query_execution(QueryString="SELECT 1",
                                                      ResultConfiguration={"OutputLocation": loc})
            self.assertEqual(c.exception.response["Error"]["Code"], "InvalidRequestException", loc)
        self.assertFalse(os.path.exists("/etc/" + "x.csv"))

    def test_ddl_location_outside_buckets_fails(self):
        qid, e = self.aws.run("CREATE EXTERNAL TABLE etc_t (a string) LOCATION 'file:///etc'")
        self.assertEqual(e["Status"]["State"], "FAILED")
        self.assertIn("outside the data directory's buckets", e["Status"]["StateChangeReason"])

    def test_idempotency_and_listing(self):
        token = "t" * 40
        a = self.aws.athena.start_query_execution(QueryString="SELECT 42", ClientRequestToken=token)["QueryExecutionId"]
        b = self.aws.athena.start_query_execution(QueryString="SELECT 42", ClientRequestToken=token)["QueryExecutionId"]
        self.assertEqual(a, b)
        self.aws.wait(a)
        ids = self.aws.athena.list_query_executions(MaxResults=2)
        self.assertEqual(ids["QueryExecutionIds"][0], a)  # newest first
        self.assertIn("NextToken", ids)
        more = self.aws.athena.list_query_executions(MaxResults=50, NextToken=ids["NextToken"])["QueryExecutionIds"]
        self.assertFalse(set(more) & set(ids["QueryExecutionIds"]))
        got = self.aws.athena.batch_get_query_execution(QueryExecutionIds=[a, "nope"])
        self.assertEqual([q["QueryExecutionId"] for q in got["QueryExecutions"]], [a])
        self.assertEqual(got["UnprocessedQueryExecutionIds"][0]["QueryExecutionId"], "nope")

    def test_metadata_and_named_queries(self):
        at = self.aws.athena
        self.assertEqual(at.get_work_group(WorkGroup="primary")["WorkGroup"]["Configuration"]["ResultConfiguration"]
                         ["OutputLocation"], "s3://orderlake-athena-results/")
        self.assertEqual([w["Name"] for w in at.list_work_groups()["WorkGroups"]], ["primary"])
        self.assertEqual([c["CatalogName"] for c in at.list_data_catalogs()["DataCatalogsSummary"]], ["AwsDataCatalog"])
        self.assertIn("default", [d["Name"] for d in at.list_databases(CatalogName="AwsDataCatalog")["DatabaseList"]])
        t = at.get_table_metadata(CatalogName="AwsDataCatalog", DatabaseName="default", TableName="orders")["TableMetadata"]
        self.assertEqual([k["Name"] for k in t["PartitionKeys"]], ["Country", "InvoiceDateOnly"])
        self.assertEqual(t["Columns"][0], {"Name": "CustomerID", "Type": "int"})
        seed = at.get_table_metadata(CatalogName="AwsDataCatalog", DatabaseName="default",
                                     TableName="tbsm_red_transformed")["TableMetadata"]
        self.assertEqual(seed["Parameters"]["location"], "s3://orderlake-lake/orders")
        names = [t["Name"] for t in at.list_table_metadata(CatalogName="AwsDataCatalog", DatabaseName="default")
                 ["TableMetadataList"]]
        self.assertIn("tbsm_red_transformed", names)
        some = at.list_table_metadata(CatalogName="AwsDataCatalog", DatabaseName="default", Expression="tbsm*|nope")
        self.assertEqual([t["Name"] for t in some["TableMetadataList"]], ["tbsm_red_transformed"])
        # SHOW TABLES: a utility statement, its .txt result without a header row.
        qid, e = self.aws.run("SHOW TABLES")
        self.assertEqual((e["Status"]["State"], e["StatementType"]), ("SUCCEEDED", "UTILITY"))
        self.assertTrue(e["ResultConfiguration"]["OutputLocation"].endswith(qid + ".txt"))
        rows, _, _ = self.aws.rows(qid, page=2)
        self.assertIn(["tbsm_red_transformed"], rows)
        self.assertNotIn(["tab_name"], rows)
        self.assertTrue(os.path.exists(os.path.join(self.data, "s3", "orderlake-athena-results", qid + ".txt")))
        with self.assertRaises(ClientError) as c:
            at.get_table_metadata(CatalogName="AwsDataCatalog", DatabaseName="default", TableName="nope")
        self.assertEqual(c.exception.response["Error"]["Code"], "MetadataException")
        ids = at.list_named_queries()["NamedQueryIds"]
        self.assertGreaterEqual(len(ids), 6)
        queries = at.batch_get_named_query(NamedQueryIds=ids[:6])["NamedQueries"]
        self.assertEqual([q["QueryString"].split()[-1] for q in queries][:1], ["10"])  # query 1 ends LIMIT 10
        self.assertTrue(all("tbsm_red_transformed" in q["QueryString"] for q in queries))
        new = at.create_named_query(Name="mine", Database="default", QueryString="SELECT 1")["NamedQueryId"]
        self.assertEqual(at.get_named_query(NamedQueryId=new)["NamedQuery"]["QueryString"], "SELECT 1")
        at.delete_named_query(NamedQueryId=new)
        with self.assertRaises(ClientError):
            at.get_named_query(NamedQueryId=new)

    def test_cli_v1_and_v2(self):
        self.assertTrue(CLIS, "no AWS CLI found")
        sql = six_queries()[1]
        want = query_csv(self.data, sql)
        for exe in CLIS:
            code, out, err = cli(exe, self.aws.url, "athena", "start-query-execution", "--query-string", sql,
                                 "--query-execution-context", "Database=default")
            self.assertEqual(code, 0, (exe, err))
            qid = json.loads(out)["QueryExecutionId"]
            self.assertEqual(self.aws.wait(qid)["Status"]["State"], "SUCCEEDED")
            code, out, err = cli(exe, self.aws.url, "athena", "get-query-execution", "--query-execution-id", qid)
            self.assertEqual(code, 0, (exe, err))
            self.assertEqual(json.loads(out)["QueryExecution"]["Status"]["State"], "SUCCEEDED")
            # Paged by the CLI itself: 3 rows a request.
            code, out, err = cli(exe, self.aws.url, "athena", "get-query-results", "--query-execution-id", qid,
                                 "--page-size", "3")
            self.assertEqual(code, 0, (exe, err))
            rows = [[d.get("VarCharValue", "") for d in r["Data"]] for r in json.loads(out)["ResultSet"]["Rows"]]
            self.assertEqual(rows[0], want[0], exe)
            self.assertTrue(same_rows(rows[1:], want[1:]), (exe, rows, want))
            code, out, err = cli(exe, self.aws.url, "athena", "start-query-execution", "--query-string", "SELECT 1",
                                 "--result-configuration", "OutputLocation=file:///etc/")
            self.assertNotEqual(code, 0)
            self.assertIn("InvalidRequestException", err)

    def test_zz_restart_keeps_executions(self):
        qid, e = self.aws.run("SELECT count(*) AS n FROM orders")
        rows, _, _ = self.aws.rows(qid)
        self.aws.stop()
        type(self).aws = Aws(self.data)
        ids = self.aws.athena.list_query_executions(MaxResults=50)["QueryExecutionIds"]
        self.assertEqual(ids[0], qid)
        self.assertEqual(self.aws.rows(qid)[0], rows)
        self.assertEqual(self.aws.athena.get_query_execution(QueryExecutionId=qid)["QueryExecution"]["Status"]["State"],
                         "SUCCEEDED")


class CatalogWithoutLake(unittest.TestCase):
    def test_ddl_tables_without_a_lake(self):
        root = tempfile.mkdtemp(prefix="orderlake-athena-nolake-")
        try:
            src = os.path.join(root, "src")
            os.makedirs(src)
            build_lake(src, count=800)
            data = os.path.join(root, "data")
            shutil.copytree(os.path.join(src, "lake", "orders"), os.path.join(data, "s3", "mybucket", "orders"))
            aws = Aws(data)
            try:
                _, e = aws.run(SEED_DDL.format(location="s3://mybucket/orders/").replace("tbsm_red_transformed", "t"))
                self.assertEqual(e["Status"]["State"], "SUCCEEDED", e["Status"])
                self.assertEqual(aws.run("MSCK REPAIR TABLE t")[1]["Status"]["State"], "SUCCEEDED")
                qid, e = aws.run("SELECT count(*) AS n FROM t")
                self.assertEqual(e["Status"]["State"], "SUCCEEDED", e["Status"])
                n = aws.rows(qid)[0][1][0]
                self.assertEqual(n, query_csv(src, "SELECT count(*) FROM orders")[1][0])
                _, e = aws.run("SELECT count(*) FROM orders")
                self.assertEqual(e["Status"]["State"], "FAILED")  # no lake: no `orders`
            finally:
                aws.stop()
            self.assertFalse(os.path.exists(os.path.join(data, "lake")))
            self.assertEqual(query_csv(data, "SELECT count(*) AS n FROM t"), [["n"], [n]])
        finally:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    unittest.main(verbosity=2)
