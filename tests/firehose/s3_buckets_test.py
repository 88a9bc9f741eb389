"""`orderlake firehose --buckets s3` delivers into real S3 buckets (moto's S3 server started
here): objects named as Firehose names them, records byte for byte and in order, exactly once
across a kill -9 of the firehose; a missing bucket is retried, then lands once created.
Run: ORDERLAKE_BINARY=build/orderlake python3 tests/firehose/s3_buckets_test.py"""
import json
import os
import re
import socket
import subprocess
import sys
import unittest

import boto3

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fh_common import Service, records, s3_config, tempdir, wait_for  # noqa: E402


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class FirehoseToS3(unittest.TestCase):
    def setUp(self):
        self.tmp = tempdir()
        self.port = free_port()
        self.moto_log = open(os.path.join(self.tmp.name, "moto.log"), "wb")
        self.moto = subprocess.Popen(["moto_server", "-H", "127.0.0.1", "-p", str(self.port)], stdout=self.moto_log,
                                     stderr=subprocess.STDOUT)
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self.s3 = boto3.client("s3", endpoint_url=self.endpoint, region_name="us-east-1",
                               aws_access_key_id="testing", aws_secret_access_key="testing")

        def up():
            try:
                self.s3.list_buckets()
                return True
            except Exception:
                return False
        self.assertTrue(wait_for(up, 30), "moto_server did not start")
        # The firehose process reaches S3 through these.
        self.saved_env = dict(os.environ)
        os.environ.update({"AWS_ENDPOINT_URL_S3": self.endpoint, "AWS_ACCESS_KEY_ID": "testing",
                           "AWS_SECRET_ACCESS_KEY": "testing", "AWS_REGION": "us-east-1"})
        os.environ.pop("AWS_ENDPOINT_URL", None)

    def tearDown(self):
        os.environ.clear()
        os.environ.update(self.saved_env)
        self.moto.kill()
        self.moto.wait()
        self.moto_log.close()
        self.tmp.cleanup()

    def keys(self, bucket, events=False):
        """The bucket's data objects (no hidden part), or with events=True its event log."""
        r = self.s3.list_objects_v2(Bucket=bucket)
        return sorted(o["Key"] for o in r.get("Contents", [])
                      if o["Key"].startswith("_orderlake/events/") == events)

    def body(self, bucket):
        return b"".join(self.s3.get_object(Bucket=bucket, Key=k)["Body"].read() for k in self.keys(bucket))

    def test_delivers_into_the_bucket_exactly_once_across_a_crash(self):
        self.s3.create_bucket(Bucket="raw")
        data_dir = os.path.join(self.tmp.name, "fh")
        svc = Service(data_dir, ["--buckets", "s3"]).start()
        try:
            st, _, _ = svc.call("CreateDeliveryStream", {"DeliveryStreamName": "orders",
                                                      "ExtendedS3DestinationConfiguration": s3_config("raw")})
            self.assertEqual(st, 200)
            sent = b""
            for batch in range(6):
                recs = [f"{batch:02d}-{i:04d},line\n".encode() for i in range(300)]
                st, out, _ = svc.call("PutRecordBatch", {"DeliveryStreamName": "orders", "Records": records(recs)})
                self.assertEqual(st, 200)
                self.assertEqual(out["FailedPutCount"], 0)
                sent += b"".join(recs)
                if batch == 2:
                    svc.kill9()  # acknowledged records must all arrive, once
                    svc.start()
            self.assertTrue(wait_for(lambda: len(self.body("raw")) >= len(sent), 30), "records did not arrive")
            keys = self.keys("raw")
            for k in keys:  # YYYY/MM/DD/HH/<stream>-<version>-<yyyy-MM-dd-HH-mm-ss>-<uuid>
                self.assertRegex(k, r"^\d{4}/\d{2}/\d{2}/\d{2}/orders-1-\d{4}-\d{2}-\d{2}-\d{2}-\d{2}-\d{2}-[0-9a-f-]{36}$")
            # Objects of one second sort by their uuid, not by time: compare the records, each
            # of which must be there exactly once, and the order inside every object.
            got = self.body("raw").splitlines(keepends=True)
            self.assertEqual(sorted(got), sorted(sent.splitlines(keepends=True)))
            for k in keys:
                lines = self.s3.get_object(Bucket="raw", Key=k)["Body"].read().splitlines()
                self.assertEqual(lines, sorted(lines), f"records out of order in {k}")
            self.assertFalse(os.path.exists(os.path.join(data_dir, "s3", "raw")), "nothing lands in the local store")
            # The event log is in the bucket too: every object named (the one redelivered
            # after the kill may be named twice), with its size.
            named = {}
            for k in self.keys("raw", events=True):
                rec = json.loads(self.s3.get_object(Bucket="raw", Key=k)["Body"].read())["Records"][0]
                self.assertEqual(rec["eventName"], "ObjectCreated:Put")
                named[rec["s3"]["object"]["key"]] = rec["s3"]["object"]["size"]
            self.assertEqual(sorted(named), keys)
            for k in keys:
                self.assertEqual(named[k], self.s3.head_object(Bucket="raw", Key=k)["ContentLength"])
        finally:
            svc.stop()

    def test_a_missing_bucket_is_retried_until_it_exists(self):
        data_dir = os.path.join(self.tmp.name, "fh")
        svc = Service(data_dir, ["--buckets", "s3"]).start()
        try:
            st, _, _ = svc.call("CreateDeliveryStream", {"DeliveryStreamName": "late",
                                                      "ExtendedS3DestinationConfiguration": s3_config("later")})
            self.assertEqual(st, 200)
            st, _, _ = svc.call("PutRecord", {"DeliveryStreamName": "late", "Record": records([b"one\n"])[0]})
            self.assertEqual(st, 200)
            log = os.path.join(self.tmp.name, "fh.log")
            def reported():
                with open(log, errors="replace") as f:
                    return re.search(r"later|NoSuchBucket|does not exist", f.read())
            self.assertTrue(wait_for(reported, 20),
                            "the failed delivery is not reported")
            self.s3.create_bucket(Bucket="later")
            # The first retry comes after about a second, then the backoff doubles.
            self.assertTrue(wait_for(lambda: self.keys("later"), 30), "not delivered once the bucket exists")
            self.assertEqual(self.body("later"), b"one\n")
        finally:
            svc.stop()


if __name__ == "__main__":
    unittest.main()
