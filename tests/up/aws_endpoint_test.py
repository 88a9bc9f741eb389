"""`orderlake up` serves every AWS API on its AWS endpoint, over the live pipeline.

A fixed set of log lines is shipped by `up --logs` (no generator), so the table settles;
then, through that endpoint with real clients: Athena counts the table (and equals
`orderlake query`), Glue and Athena list it, S3 lists and copies the raw objects the firehose
wrote (byte-equal), refuses writes to the raw bucket and the lake, and the Firehose there is
the same service the agent writes to.
"""
import json
import os
import pathlib
import shutil
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.request

import botocore.session
from botocore.config import Config

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from up_common import BINARY, start_up, stop  # noqa: E402

CLI_V2 = "/usr/bin/aws"


def client(service, url):
    return botocore.session.get_session().create_client(
        service, region_name="us-east-1", endpoint_url=url, aws_access_key_id="AKIDEXAMPLE",
        aws_secret_access_key="secret", config=Config(retries={"max_attempts": 2}))


def athena_rows(athena, sql, timeout=60):
    qid = athena.start_query_execution(QueryString=sql)["QueryExecutionId"]
    deadline = time.time() + timeout
    while time.time() < deadline:
        st = athena.get_query_execution(QueryExecutionId=qid)["QueryExecution"]["Status"]
        if st["State"] in ("SUCCEEDED", "FAILED", "CANCELLED"):
            break
        time.sleep(0.1)
    assert st["State"] == "SUCCEEDED", st
    rows = athena.get_query_results(QueryExecutionId=qid)["ResultSet"]["Rows"]
    return [[d.get("VarCharValue") for d in r["Data"]] for r in rows]


class UpAwsEndpointTest(unittest.TestCase):
    def setUp(self):
        self.tmp = pathlib.Path(tempfile.mkdtemp(prefix="up-aws-"))
        self.data, self.logs = self.tmp / "data", self.tmp / "logs"
        subprocess.run([BINARY, "generate", "--out", str(self.logs), "--count", "3000", "--seed", "11"], check=True,
                       capture_output=True, timeout=60)
        self.err = open(self.tmp / "up.err", "wb")
        self.up, self.dashboard, self.url = start_up(["--data-dir", str(self.data), "--logs", str(self.logs),
                                                      "--port", "0", "--aws-port", "0", "--status-interval", "0"],
                                                     self.err)
        self.assertTrue(self.url, (self.tmp / "up.err").read_text())

    def tearDown(self):
        stop(self.up)
        self.err.close()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def expected_rows(self):
        check = subprocess.run([BINARY, "etl", "--input", str(self.logs), "--lake", str(self.tmp / "check"), "--json"],
                               capture_output=True, text=True, timeout=120)
        self.assertEqual(check.returncode, 0, check.stderr)
        return json.loads(check.stdout)["kept"]

    def test_athena_glue_s3_and_firehose_over_the_live_pipeline(self):
        athena = client("athena", self.url)
        expected = self.expected_rows()
        deadline, count = time.time() + 90, None
        while time.time() < deadline:
            rows = athena_rows(athena, "SELECT count(*) AS n FROM orders")
            self.assertEqual(rows[0], ["n"])  # the header row first, as Athena gives it
            count = int(rows[1][0])
            if count == expected:
                break
            time.sleep(0.5)
        self.assertEqual(count, expected)
        # The seed's table name works too, and equals `orderlake query` over the lake.
        rows = athena_rows(athena, "SELECT country, count(*) AS n FROM tbsm_red_transformed GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 5")
        q = subprocess.run([BINARY, "query", "--lake", str(self.data / "lake"), "--format", "csv",
                            "SELECT country, count(*) AS n FROM tbsm_red_transformed GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 5"],
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(q.returncode, 0, q.stderr)
        self.assertEqual([",".join(r) for r in rows[1:]], q.stdout.strip().splitlines()[1:])
        names = [t["Name"] for t in athena.list_table_metadata(CatalogName="AwsDataCatalog",
                                                               DatabaseName="default")["TableMetadataList"]]
        self.assertIn("orders", names)
        glue = client("glue", self.url)
        self.assertIn("default", [d["Name"] for d in glue.get_databases()["DatabaseList"]])
        # The endpoint's connection counters are on up's /metrics with every stage's.
        with urllib.request.urlopen(self.dashboard + "/metrics", timeout=10) as r:
            text = r.read().decode()
        opened = [l for l in text.splitlines() if l.startswith("orderlake_aws_http_connections_accepted_total")]
        self.assertTrue(opened and float(opened[0].split()[-1]) > 0, [l for l in text.splitlines() if "aws_http" in l])

        # S3: the raw objects the firehose delivered, listed and copied down byte-equal.
        raw_dir = self.data / "s3" / "orderlake-raw"
        on_disk = sorted(str(p.relative_to(raw_dir)) for p in raw_dir.rglob("*") if p.is_file() and not p.name.startswith("."))
        s3 = client("s3", self.url)
        listed, token = [], None
        while True:
            page = s3.list_objects_v2(Bucket="orderlake-raw", **({"ContinuationToken": token} if token else {}))
            listed += [o["Key"] for o in page.get("Contents", [])]
            if not page.get("IsTruncated"):
                break
            token = page["NextContinuationToken"]
        self.assertEqual(listed, on_disk)
        self.assertTrue(on_disk)
        env = dict(os.environ, AWS_ACCESS_KEY_ID="AKIDEXAMPLE", AWS_SECRET_ACCESS_KEY="secret",
                   AWS_DEFAULT_REGION="us-east-1", AWS_CONFIG_FILE="/dev/null", AWS_SHARED_CREDENTIALS_FILE="/dev/null")
        dest = self.tmp / "copy"
        r = subprocess.run([CLI_V2, "--endpoint-url", self.url, "s3", "cp", f"s3://orderlake-raw/{on_disk[0]}", str(dest)],
                           env=env, capture_output=True, text=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(dest.read_bytes(), (raw_dir / on_disk[0]).read_bytes())
        for bucket in ("orderlake-raw", "orderlake-lake"):
            with self.assertRaises(Exception) as cm:
                s3.put_object(Bucket=bucket, Key="injected.json", Body=b"{}")
            self.assertEqual(cm.exception.response["Error"]["Code"], "AccessDenied", bucket)
        self.assertFalse((raw_dir / "injected.json").exists())

        # The Firehose on the endpoint is the one the agent writes to.
        fh = client("firehose", self.url)
        self.assertIn("tbsm-red-fire", fh.list_delivery_streams()["DeliveryStreamNames"])


if __name__ == "__main__":
    unittest.main(verbosity=2)
