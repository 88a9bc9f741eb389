"""The Glue API of `orderlake aws` (issue 15) through boto3 and both AWS CLIs (v1 from pip,
Debian's v2): databases, tables and partitions read back; a crawler started through Glue over
Firehose-layout JSON lines objects makes the table with s3:// locations; a job run of the etl
over generated order lines fills the lake; locations outside the buckets and bad requests get
Glue's error types."""
import fcntl
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

BINARY = os.environ.get("ORDERLAKE_BINARY", "build/orderlake")
CLIS = [c for c in ("aws", "/usr/bin/aws") if shutil.which(c)]
ENV = dict(os.environ, AWS_ACCESS_KEY_ID="test", AWS_SECRET_ACCESS_KEY="test", AWS_DEFAULT_REGION="us-east-1",
           AWS_CONFIG_FILE="/dev/null", AWS_SHARED_CREDENTIALS_FILE="/dev/null", AWS_PAGER="")
ENV.pop("AWS_ENDPOINT_URL", None)
ENV.pop("AWS_PROFILE", None)


class Endpoint:
    """`orderlake aws` over a fresh data directory on a free loopback port."""

    def __init__(self, buckets=("orderlake-raw",)):
        self.dir = tempfile.mkdtemp(prefix="glue-api-")
        os.makedirs(os.path.join(self.dir, "lake"))  # the lake bucket, as `orderlake up` makes it
        for b in buckets:
            os.makedirs(os.path.join(self.dir, "s3", b))
        self.proc = subprocess.Popen([BINARY, "aws", "--data-dir", self.dir, "--listen", "127.0.0.1:0"],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV)
        line = self.proc.stdout.readline()
        m = re.search(r"AWS endpoint at (http://127\.0\.0\.1:\d+)", line)
        if not m:
            self.stop()
            raise RuntimeError(f"no endpoint line: {line!r} {self.proc.stderr.read()}")
        self.url = m.group(1)
        self.glue = boto3.client("glue", endpoint_url=self.url, region_name="us-east-1", aws_access_key_id="test",
                                 aws_secret_access_key="test", config=Config(retries={"max_attempts": 1}))

    def cli(self, exe, *args):
        """Runs an AWS CLI glue command; (exit code, parsed stdout or None, stderr)."""
        p = subprocess.run([exe, "--endpoint-url", self.url, "--output", "json", "glue", *args],
                           capture_output=True, text=True, env=ENV, timeout=60)
        out = json.loads(p.stdout) if p.returncode == 0 and p.stdout.strip() else None
        return p.returncode, out, p.stderr

    def query(self, sql):
        return subprocess.run([BINARY, "query", "--data-dir", self.dir, "--format", "csv", sql],
                              capture_output=True, text=True, timeout=120)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)


def error_type(fn, *args, **kwargs):
    try:
        fn(*args, **kwargs)
    except ClientError as e:
        return e.response["Error"]["Code"]
    return None


def wait_for(fn, what, timeout=60):
    deadline = time.time() + timeout
    while time.time() < deadline:
        v = fn()
        if v:
            return v
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


CSV_TABLE = {
    "Name": "Events",
    "TableType": "EXTERNAL_TABLE",
    "Parameters": {"classification": "csv", "skip.header.line.count": "1"},
    "PartitionKeys": [{"Name": "dt", "Type": "string"}, {"Name": "hour", "Type": "int"}],
    "StorageDescriptor": {
        "Columns": [{"Name": "id", "Type": "bigint"}, {"Name": "name", "Type": "string"}],
        "Location": "s3://orderlake-raw/events/",
        "InputFormat": "org.apache.hadoop.mapred.TextInputFormat",
        "SerdeInfo": {"SerializationLibrary": "org.apache.hadoop.hive.serde2.lazy.LazySimpleSerDe",
                      "Parameters": {"field.delim": "|"}},
    },
}


class CatalogTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.ep = Endpoint()
        cls.glue = cls.ep.glue

    @classmethod
    def tearDownClass(cls):
        cls.ep.stop()

    def test_tables_and_partitions_through_boto3(self):
        g = self.glue
        g.create_database(DatabaseInput={"Name": "Shop", "Description": "the shop", "Parameters": {"team": "data"}})
        self.assertEqual(error_type(g.create_database, DatabaseInput={"Name": "shop"}), "AlreadyExistsException")
        db = g.get_database(Name="shop")["Database"]
        self.assertEqual((db["Name"], db["Description"], db["Parameters"]), ("shop", "the shop", {"team": "data"}))
        self.assertIn("shop", [d["Name"] for d in g.get_databases()["DatabaseList"]])
        g.create_table(DatabaseName="shop", TableInput=CSV_TABLE)
        self.assertEqual(error_type(g.create_table, DatabaseName="shop", TableInput=CSV_TABLE), "AlreadyExistsException")
        t = g.get_table(DatabaseName="shop", Name="events")["Table"]
        sd = t["StorageDescriptor"]
        self.assertEqual(t["Name"], "events")
        self.assertEqual(sd["Location"], "s3://orderlake-raw/events/")
        self.assertEqual(sd["SerdeInfo"]["Parameters"]["field.delim"], "|")
        self.assertEqual([c["Name"] for c in sd["Columns"]], ["id", "name"])
        self.assertEqual(t["Parameters"]["classification"], "csv")
        self.assertEqual([k["Name"] for k in t["PartitionKeys"]], ["dt", "hour"])
        self.assertIn("CreateTime", t)

        inputs = [{"Values": [f"2026-01-0{d}", str(h)]} for d in (1, 2, 3) for h in (9, 10, 11)]
        inputs.append({"Values": ["2026-02-01", "1"], "StorageDescriptor": {"Location": "/etc"}})
        inputs.append({"Values": ["only-one"]})
        errors = g.batch_create_partition(DatabaseName="shop", TableName="events", PartitionInputList=inputs)["Errors"]
        self.assertEqual(sorted(e["ErrorDetail"]["ErrorCode"] for e in errors),
                         ["AccessDeniedException", "InvalidInputException"])
        again = g.batch_create_partition(DatabaseName="shop", TableName="events", PartitionInputList=inputs[:1])
        self.assertEqual(again["Errors"][0]["ErrorDetail"]["ErrorCode"], "AlreadyExistsException")

        def values(expr=None, **kw):
            args = {"DatabaseName": "shop", "TableName": "events", **kw}
            if expr:
                args["Expression"] = expr
            return [tuple(p["Values"]) for p in g.get_partitions(**args)["Partitions"]]

        self.assertEqual(len(values()), 9)
        self.assertEqual(values("dt = '2026-01-02' AND hour > 9"), [("2026-01-02", "10"), ("2026-01-02", "11")])
        self.assertEqual(len(values("dt IN ('2026-01-01', '2026-01-03') OR (hour = 10)")), 7)
        self.assertEqual(len(values("NOT (hour <= 9) AND dt BETWEEN '2026-01-02' AND '2026-01-03'")), 4)
        self.assertEqual(len(values("hour >= 10 and dt like '2026-01-0%'")), 6)
        self.assertEqual(error_type(values, "nope = 'x'"), "InvalidInputException")
        self.assertEqual(error_type(values, "dt = ("), "InvalidInputException")
        self.assertEqual(error_type(values, "(" * 200 + "hour = 1" + ")" * 200), "InvalidInputException")
        p = g.get_partition(DatabaseName="shop", TableName="events", PartitionValues=["2026-01-01", "9"])["Partition"]
        self.assertEqual(p["StorageDescriptor"]["Location"], "s3://orderlake-raw/events/dt=2026-01-01/hour=9")

        pages, token = [], None
        while True:
            kw = {"NextToken": token} if token else {}
            r = g.get_partitions(DatabaseName="shop", TableName="events", MaxResults=4, **kw)
            pages.append(len(r["Partitions"]))
            token = r.get("NextToken")
            if not token:
                break
        self.assertEqual(pages, [4, 4, 1])
        got = g.batch_get_partition(DatabaseName="shop", TableName="events",
                                    PartitionsToGet=[{"Values": ["2026-01-01", "9"]}, {"Values": ["1999-01-01", "1"]}])
        self.assertEqual([x["Values"] for x in got["Partitions"]], [["2026-01-01", "9"]])
        g.delete_partition(DatabaseName="shop", TableName="events", PartitionValues=["2026-01-01", "9"])
        self.assertEqual(error_type(g.get_partition, DatabaseName="shop", TableName="events",
                                    PartitionValues=["2026-01-01", "9"]), "EntityNotFoundException")
        r = g.batch_delete_partition(DatabaseName="shop", TableName="events",
                                     PartitionsToDelete=[{"Values": ["2026-01-01", "10"]}, {"Values": ["x", "1"]}])
        self.assertEqual(len(r["Errors"]), 1)
        self.assertEqual(len(values()), 7)

        updated = json.loads(json.dumps(CSV_TABLE))
        updated["Description"] = "now described"
        g.update_table(DatabaseName="shop", TableInput=updated)
        t2 = g.get_table(DatabaseName="shop", Name="events")["Table"]
        self.assertEqual(t2["Description"], "now described")
        self.assertEqual(t2["CreateTime"], t["CreateTime"])
        self.assertEqual(len(values()), 7)  # same keys: partitions kept

        parquet = {"Name": "facts", "StorageDescriptor": {
            "Columns": [{"Name": "x", "Type": "double"}], "Location": "s3://orderlake-lake/facts",
            "SerdeInfo": {"SerializationLibrary": "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"}}}
        g.create_table(DatabaseName="shop", TableInput=parquet)
        self.assertEqual(g.get_table(DatabaseName="shop", Name="facts")["Table"]["Parameters"]["classification"], "parquet")
        names = [x["Name"] for x in g.get_tables(DatabaseName="shop", Expression="fa*|nothing")["TableList"]]
        self.assertEqual(names, ["facts"])
        self.assertEqual(len(g.get_tables(DatabaseName="shop", Expression=".*")["TableList"]), 2)
        g.delete_table(DatabaseName="shop", Name="facts")
        self.assertEqual(error_type(g.get_table, DatabaseName="shop", Name="facts"), "EntityNotFoundException")
        self.assertEqual(error_type(g.get_tables, DatabaseName="nodb"), "EntityNotFoundException")

    def test_a_table_made_through_glue_is_queryable(self):
        g = self.glue
        root = os.path.join(self.ep.dir, "s3", "orderlake-raw", "sold")
        for day, rows in (("2026-01-01", 3), ("2026-01-02", 4)):
            os.makedirs(os.path.join(root, f"dt={day}"))
            with open(os.path.join(root, f"dt={day}", "part-0.csv"), "w") as f:
                f.write("item;qty\n" + "".join(f"i{n};{n}\n" for n in range(rows)))
        g.create_database(DatabaseInput={"Name": "q"})
        for name, loc in (("sold_file", "file://" + root), ("sold_s3", "s3://orderlake-raw/sold/")):
            g.create_table(DatabaseName="q", TableInput={
                "Name": name, "Parameters": {"classification": "csv", "skip.header.line.count": "1"},
                "PartitionKeys": [{"Name": "dt", "Type": "string"}],
                "StorageDescriptor": {"Columns": [{"Name": "item", "Type": "string"}, {"Name": "qty", "Type": "int"}],
                                      "Location": loc, "SerdeInfo": {
                                          "SerializationLibrary": "org.apache.hadoop.hive.serde2.lazy.LazySimpleSerDe",
                                          "Parameters": {"field.delim": ";"}}}})
            g.batch_create_partition(DatabaseName="q", TableName=name,
                                     PartitionInputList=[{"Values": ["2026-01-01"]}, {"Values": ["2026-01-02"]}])
        r = self.ep.query("SELECT count(*), sum(qty) FROM q.sold_file")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout.strip().splitlines()[-1], "7,9")
        r = self.ep.query("SELECT count(*), sum(qty) FROM q.sold_s3")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout.strip().splitlines()[-1], "7,9")

    def test_locations_outside_the_buckets_are_refused(self):
        g = self.glue
        g.create_database(DatabaseInput={"Name": "safety"})
        for loc in ("/etc", "file:///etc", "s3://orderlake-raw/../../etc", "s3://unknown-bucket/x", "http://example.com/",
                    "relative/path", f"file://{self.ep.dir}/catalog"):
            t = {"Name": "t", "StorageDescriptor": {"Columns": [], "Location": loc}}
            self.assertEqual(error_type(g.create_table, DatabaseName="safety", TableInput=t), "AccessDeniedException", loc)
            self.assertEqual(error_type(g.create_database, DatabaseInput={"Name": "d2", "LocationUri": loc}),
                             "AccessDeniedException", loc)
            self.assertEqual(error_type(g.create_crawler, Name="c", Role="r", Targets={"S3Targets": [{"Path": loc}]}),
                             "AccessDeniedException", loc)
        self.assertEqual(g.get_tables(DatabaseName="safety")["TableList"], [])
        self.assertEqual(error_type(g.create_database, DatabaseInput={"Name": "x" * 256}), "InvalidInputException")
        self.assertEqual(error_type(g.create_database, DatabaseInput={"Name": "bad\x01name"}), "InvalidInputException")
        self.assertEqual(error_type(g.get_database, Name="missing"), "EntityNotFoundException")
        self.assertEqual(error_type(g.delete_database, Name="missing"), "EntityNotFoundException")

    def test_both_clis_read_back_what_they_made(self):
        self.assertTrue(CLIS, "no AWS CLI on PATH")
        for n, exe in enumerate(CLIS):
            db = f"cli{n}"
            rc, _, err = self.ep.cli(exe, "create-database", "--database-input", json.dumps({"Name": db}))
            self.assertEqual(rc, 0, err)
            rc, _, err = self.ep.cli(exe, "create-table", "--database-name", db, "--table-input", json.dumps(CSV_TABLE))
            self.assertEqual(rc, 0, err)
            rc, out, err = self.ep.cli(exe, "get-table", "--database-name", db, "--name", "events")
            self.assertEqual(rc, 0, err)
            self.assertEqual(out["Table"]["StorageDescriptor"]["Location"], "s3://orderlake-raw/events/")
            rc, _, err = self.ep.cli(exe, "create-partition", "--database-name", db, "--table-name", "events",
                                     "--partition-input", json.dumps({"Values": ["2026-03-01", "5"]}))
            self.assertEqual(rc, 0, err)
            rc, out, err = self.ep.cli(exe, "get-partitions", "--database-name", db, "--table-name", "events",
                                       "--expression", "hour = 5")
            self.assertEqual(rc, 0, err)
            self.assertEqual([p["Values"] for p in out["Partitions"]], [["2026-03-01", "5"]])
            rc, out, err = self.ep.cli(exe, "get-tables", "--database-name", db)
            self.assertEqual([t["Name"] for t in out["TableList"]], ["events"])
            rc, _, err = self.ep.cli(exe, "get-table", "--database-name", db, "--name", "nope")
            self.assertNotEqual(rc, 0)
            self.assertIn("EntityNotFoundException", err)
            rc, _, err = self.ep.cli(exe, "create-table", "--database-name", db, "--table-input",
                                     json.dumps({"Name": "x", "StorageDescriptor": {"Location": "file:///etc"}}))
            self.assertIn("AccessDeniedException", err)
            rc, _, err = self.ep.cli(exe, "delete-database", "--name", db)
            self.assertEqual(rc, 0, err)
            self.assertIn("EntityNotFoundException", self.ep.cli(exe, "get-table", "--database-name", db, "--name", "events")[2])


def write_json_lines(data_dir, hours, per_hour):
    """Firehose-layout objects of JSON lines: <raw>/YYYY/MM/DD/HH/<stream>-<n>."""
    n = 0
    for h in hours:
        d = os.path.join(data_dir, "s3", "orderlake-raw", "2026", "12", "07", f"{h:02d}")
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, f"orders-1-2026-12-07-{h:02d}-00-00-abc{h}"), "w") as f:
            for i in range(per_hour):
                f.write(json.dumps({"invoice": 1000 + n, "stock_code": f"S{i}", "quantity": i + 1,
                                    "price": 1.5 * i, "country": "France"}) + "\n")
                n += 1
    return n


class CrawlerTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.ep = Endpoint()
        cls.glue = cls.ep.glue
        cls.rows = write_json_lines(cls.ep.dir, (10, 11, 12), 50)
        g = cls.glue
        g.create_database(DatabaseInput={"Name": "raw"})
        g.create_crawler(Name="raw-crawler", Role="arn:aws:iam::123456789012:role/glue", DatabaseName="raw",
                         Targets={"S3Targets": [{"Path": "s3://orderlake-raw/", "Exclusions": ["**/skip-*"]}]},
                         Description="the raw bucket")
        with open(os.path.join(cls.ep.dir, "s3", "orderlake-raw", "2026", "12", "07", "10", "skip-me"), "w") as f:
            f.write("not,json,at,all\n")  # excluded, else the crawl would see mixed formats
        cls.states = []
        g.start_crawler(Name="raw-crawler")

        def done():
            c = g.get_crawler(Name="raw-crawler")["Crawler"]
            cls.states.append(c["State"])
            return c if c["State"] == "READY" and "LastCrawl" in c else None

        cls.crawler = wait_for(done, "the crawler to finish")

    @classmethod
    def tearDownClass(cls):
        cls.ep.stop()

    def test_crawler_makes_the_table_with_s3_locations(self):
        g = self.glue
        c = self.crawler
        self.assertEqual(c["LastCrawl"]["Status"], "SUCCEEDED", c["LastCrawl"])
        self.assertEqual(c["Targets"]["S3Targets"][0]["Path"], "s3://orderlake-raw/")
        self.assertTrue(set(self.states) <= {"RUNNING", "STOPPING", "READY"}, self.states)
        tables = g.get_tables(DatabaseName="raw")["TableList"]
        self.assertEqual([t["Name"] for t in tables], ["orderlake_raw"])
        t = tables[0]
        self.assertEqual(t["StorageDescriptor"]["Location"], "s3://orderlake-raw")
        self.assertEqual(t["Parameters"]["classification"], "json")
        self.assertEqual([c["Name"] for c in t["StorageDescriptor"]["Columns"]],
                         ["invoice", "stock_code", "quantity", "price", "country"])
        self.assertEqual([k["Name"] for k in t["PartitionKeys"]], [f"partition_{i}" for i in range(4)])
        parts = g.get_partitions(DatabaseName="raw", TableName="orderlake_raw")["Partitions"]
        self.assertEqual(sorted(p["Values"][3] for p in parts), ["10", "11", "12"])
        for p in parts:
            self.assertTrue(p["StorageDescriptor"]["Location"].startswith("s3://orderlake-raw/2026/12/07/"), p)
        m = g.get_crawler_metrics(CrawlerNameList=["raw-crawler"])["CrawlerMetricsList"][0]
        self.assertEqual(m["TablesCreated"], 1)
        self.assertEqual(error_type(g.stop_crawler, Name="raw-crawler"), "CrawlerNotRunningException")
        self.assertEqual(error_type(g.start_crawler, Name="nope"), "EntityNotFoundException")
        self.assertEqual(error_type(g.create_crawler, Name="raw-crawler", Role="r",
                                    Targets={"S3Targets": [{"Path": "s3://orderlake-raw/"}]}), "AlreadyExistsException")
        self.assertIn("raw-crawler", [x["Name"] for x in g.get_crawlers()["Crawlers"]])
        g.update_crawler(Name="raw-crawler", Description="updated")
        c2 = g.get_crawler(Name="raw-crawler")["Crawler"]
        self.assertEqual((c2["Description"], c2["Version"]), ("updated", 2))
        self.assertEqual(c2["Targets"]["S3Targets"][0]["Path"], "s3://orderlake-raw/")  # kept
        self.assertEqual(error_type(g.update_crawler, Name="raw-crawler", Targets={"S3Targets": [{"Path": "/etc"}]}),
                         "AccessDeniedException")
        g.create_crawler(Name="gone", Role="r", Targets={"S3Targets": [{"Path": "s3://orderlake-raw/2026/"}]})
        g.delete_crawler(Name="gone")
        self.assertEqual(error_type(g.get_crawler, Name="gone"), "EntityNotFoundException")

    def test_crawling_again_updates_and_adds_partitions(self):
        g = self.glue
        write_json_lines(self.ep.dir, (13,), 5)
        g.start_crawler(Name="raw-crawler")
        wait_for(lambda: g.get_crawler(Name="raw-crawler")["Crawler"]["State"] == "READY", "the second crawl")
        parts = g.get_partitions(DatabaseName="raw", TableName="orderlake_raw", Expression="partition_3 = '13'")
        self.assertEqual(len(parts["Partitions"]), 1)

    def test_athena_reads_the_crawled_table(self):
        # A crawler's Exclusions shape only what it infers; a query reads every file under the
        # location (as Athena does), so the excluded CSV file is named, never read as JSON.
        r = self.ep.query("SELECT count(*) AS n FROM raw.orderlake_raw")
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("skip-me", r.stderr)
        os.remove(os.path.join(self.ep.dir, "s3", "orderlake-raw", "2026", "12", "07", "10", "skip-me"))
        r = self.ep.query("SELECT count(*) AS n FROM raw.orderlake_raw")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertGreaterEqual(int(r.stdout.strip().splitlines()[-1]), self.rows)


class JobTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.ep = Endpoint()
        gen = tempfile.mkdtemp(prefix="glue-gen-")
        p = subprocess.run([BINARY, "generate", "--out", gen, "--count", "3000", "--seed", "15"],
                           capture_output=True, text=True, timeout=120)
        assert p.returncode == 0, p.stderr
        cls.valid = int(re.search(r"\((\d+) valid", p.stdout + p.stderr).group(1))
        dest = os.path.join(cls.ep.dir, "s3", "orderlake-raw", "2026", "12", "07", "09")
        os.makedirs(dest)
        for i, name in enumerate(sorted(os.listdir(gen))):
            shutil.copy(os.path.join(gen, name), os.path.join(dest, f"orders-1-2026-12-07-09-00-00-{i}"))
        shutil.rmtree(gen)
        cls.glue = cls.ep.glue
        cls.glue.create_job(Name="curate", Role="r", Command={"Name": "glueetl", "ScriptLocation": "s3://scripts/etl.py"},
                            DefaultArguments={"--job-bookmark-option": "job-bookmark-enable"},
                            ExecutionProperty={"MaxConcurrentRuns": 1})

    @classmethod
    def tearDownClass(cls):
        cls.ep.stop()

    def run_job(self, **kw):
        g = self.glue
        rid = g.start_job_run(JobName="curate", **kw)["JobRunId"]
        return wait_for(lambda: (lambda r: r if r["JobRunState"] not in ("STARTING", "RUNNING") else None)(
            g.get_job_run(JobName="curate", RunId=rid)["JobRun"]), "the job run", timeout=120)

    def count(self):
        r = self.ep.query("SELECT count(*) FROM orders")
        self.assertEqual(r.returncode, 0, r.stderr)
        return int(r.stdout.strip().splitlines()[-1])

    def test_1_job_run_fills_the_lake_once(self):
        run = self.run_job()
        self.assertEqual(run["JobRunState"], "SUCCEEDED", run.get("ErrorMessage"))
        self.assertIn("CompletedOn", run)
        self.assertEqual(self.count(), self.valid)
        run2 = self.run_job(Arguments={"--input": "s3://orderlake-raw/2026/"})
        self.assertEqual(run2["JobRunState"], "SUCCEEDED", run2.get("ErrorMessage"))
        self.assertEqual(self.count(), self.valid)  # the bookmark: nothing read twice
        runs = self.glue.get_job_runs(JobName="curate")["JobRuns"]
        self.assertEqual([r["Id"] for r in runs[:2]], [run2["Id"], run["Id"]])
        self.assertEqual(self.glue.get_job(JobName="curate")["Job"]["Command"]["Name"], "glueetl")
        self.assertEqual([j["Name"] for j in self.glue.get_jobs()["Jobs"]], ["curate"])

    def test_2_a_run_while_the_table_is_locked_fails_cleanly(self):
        lock = os.path.join(self.ep.dir, "lake", "_orderlake", "orders", "lock")
        os.makedirs(os.path.dirname(lock), exist_ok=True)
        with open(lock, "a") as f:
            fcntl.flock(f, fcntl.LOCK_EX)  # as `up`'s etl holds it
            run = self.run_job()
        self.assertEqual(run["JobRunState"], "FAILED")
        self.assertTrue(run.get("ErrorMessage"), run)
        self.assertEqual(self.count(), self.valid)

    def test_3_bad_arguments_are_refused(self):
        g = self.glue
        for args, want in [({"--input": "/etc"}, "AccessDeniedException"),
                           ({"--input": "s3://orderlake-raw/../x"}, "AccessDeniedException"),
                           ({"--lake": "file:///etc"}, "AccessDeniedException"),
                           ({"--job-bookmark-option": "job-bookmark-pause"}, "InvalidInputException"),
                           ({"--job-bookmark-option": "nonsense"}, "InvalidInputException")]:
            self.assertEqual(error_type(g.start_job_run, JobName="curate", Arguments=args), want, args)
        self.assertEqual(error_type(g.start_job_run, JobName="missing"), "EntityNotFoundException")
        self.assertEqual(error_type(g.create_job, Name="curate", Role="r", Command={"Name": "glueetl"}),
                         "AlreadyExistsException")

    def test_4_the_cli_runs_a_job(self):
        for exe in CLIS:
            rc, out, err = self.ep.cli(exe, "start-job-run", "--job-name", "curate")
            self.assertEqual(rc, 0, err)
            rid = out["JobRunId"]

            def state():
                _, o, _ = self.ep.cli(exe, "get-job-run", "--job-name", "curate", "--run-id", rid)
                return o and o["JobRun"]["JobRunState"] not in ("STARTING", "RUNNING") and o["JobRun"]
            self.assertEqual(wait_for(state, "the CLI's job run")["JobRunState"], "SUCCEEDED")


if __name__ == "__main__":
    unittest.main()
