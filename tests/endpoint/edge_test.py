"""`orderlake aws`: every AWS API of a data directory on one port (endpoint/edge.h).

Real clients (the AWS CLI v1 from pip, Debian's v2, botocore) against the real binary on a
free loopback port: requests are routed by X-Amz-Target, the rest is S3; keys are enforced
per service; a listener beyond loopback needs keys; one firehose per data directory.
"""
import json
import os
import pathlib
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.error
import urllib.request

import botocore.session
from botocore.config import Config

BINARY = os.environ.get("ORDERLAKE_BINARY", "orderlake")
CLI_V1 = shutil.which("aws")
CLI_V2 = "/usr/bin/aws" if os.path.exists("/usr/bin/aws") else None


class Endpoint:
    """One `orderlake aws` process; the port is read from its banner."""

    def __init__(self, data_dir, extra=()):
        self.data_dir = pathlib.Path(data_dir)
        self.log = open(self.data_dir.parent / (self.data_dir.name + ".log"), "ab")
        self.proc = subprocess.Popen([BINARY, "aws", "--data-dir", str(data_dir), "--listen", "127.0.0.1:0", *extra],
                                     stdout=subprocess.PIPE, stderr=self.log)
        line = self.proc.stdout.readline().decode()
        if not line.startswith("AWS endpoint at http://"):
            self.stop()
            raise RuntimeError(f"orderlake aws did not start: {line!r}")
        self.url = line.split(" at ", 1)[1].strip()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


def client(service, url, key="AKIDEXAMPLE", secret="secret"):
    s = botocore.session.get_session()
    return s.create_client(service, region_name="us-east-1", endpoint_url=url, aws_access_key_id=key,
                           aws_secret_access_key=secret, config=Config(retries={"max_attempts": 1}))


def cli(binary, url, *args, key="AKIDEXAMPLE", secret="secret"):
    env = dict(os.environ, AWS_ACCESS_KEY_ID=key, AWS_SECRET_ACCESS_KEY=secret, AWS_DEFAULT_REGION="us-east-1",
               AWS_PAGER="", AWS_CONFIG_FILE="/dev/null", AWS_SHARED_CREDENTIALS_FILE="/dev/null")
    return subprocess.run([binary, "--endpoint-url", url, "--output", "json", *args], env=env, capture_output=True,
                          text=True, timeout=60)


def post(url, target, body=b"{}", headers=None, method="POST"):
    h = {"Content-Type": "application/x-amz-json-1.1"}
    if target:
        h["X-Amz-Target"] = target
    h.update(headers or {})
    req = urllib.request.Request(url + "/", data=body if method == "POST" else None, headers=h, method=method)
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, r.headers, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()


class EdgeTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="edge-")
        self.data = pathlib.Path(self.tmp) / "data"
        self.data.mkdir()
        self.eps = []

    def tearDown(self):
        for e in self.eps:
            e.stop()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def start(self, *extra, data=None):
        e = Endpoint(data or self.data, extra)
        self.eps.append(e)
        return e

    def test_firehose_through_both_clis_on_the_one_port(self):
        url = self.start().url
        # botocore without its client-side checks: Debian's CLI v2 refuses IntervalInSeconds 0.
        fh = botocore.session.get_session().create_client(
            "firehose", region_name="us-east-1", endpoint_url=url, aws_access_key_id="AKIDEXAMPLE",
            aws_secret_access_key="secret", config=Config(parameter_validation=False))
        fh.create_delivery_stream(DeliveryStreamName="orders", ExtendedS3DestinationConfiguration={
            "RoleARN": "arn:aws:iam::123456789012:role/f", "BucketARN": "arn:aws:s3:::orderlake-raw",
            "BufferingHints": {"SizeInMBs": 1, "IntervalInSeconds": 0}})
        clis = list(filter(None, [CLI_V1, CLI_V2]))
        self.assertEqual(len(clis), 2, "both AWS CLIs are installed by scripts/setup.sh")
        for binary in clis:
            r = cli(binary, url, "firehose", "list-delivery-streams")
            self.assertEqual(r.returncode, 0, binary + ": " + r.stderr)
            self.assertEqual(json.loads(r.stdout)["DeliveryStreamNames"], ["orders"])
            # v1 sends a blob argument's text as it is; v2 takes base64 by default.
            data = '"line 1\\n"' if binary == CLI_V1 else '"bGluZSAyCg=="'
            r = cli(binary, url, "firehose", "put-record", "--delivery-stream-name", "orders", "--record",
                    '{"Data":%s}' % data)
            self.assertEqual(r.returncode, 0, binary + ": " + r.stderr)
            self.assertIn("RecordId", json.loads(r.stdout))
        deadline = time.time() + 20
        got = b""
        while time.time() < deadline:
            raw = self.data / "s3" / "orderlake-raw"
            # The data objects, not the firehose's event log (_orderlake/events/).
            got = b"".join(sorted(p.read_bytes() for p in raw.rglob("*")
                                  if p.is_file() and not p.relative_to(raw).parts[0].startswith("_")))
            if got.count(b"\n") >= 2:
                break
            time.sleep(0.2)
        self.assertEqual(sorted(got.splitlines()), [b"line 1", b"line 2"])

    def test_requests_are_routed_by_target_and_the_rest_is_s3(self):
        url = self.start().url
        # Each JSON service answers its own operations; an unknown prefix is named.
        status, headers, body = post(url, "Firehose_20150804.ListDeliveryStreams")
        self.assertEqual(status, 200, body)
        self.assertIn("DeliveryStreamNames", json.loads(body))
        self.assertTrue(headers["x-amzn-RequestId"])
        status, _, body = post(url, "NoSuchService_2020.DoIt")
        self.assertEqual(status, 400)
        self.assertEqual(json.loads(body)["__type"], "UnknownOperationException")
        status, _, body = post(url, "Firehose_20150804.NoSuchOperation")
        self.assertEqual(status, 400)
        self.assertEqual(json.loads(body)["__type"], "UnknownOperationException")
        status, _, body = post(url, "Firehose_20150804.ListDeliveryStreams", body=b"{not json")
        self.assertEqual(status, 400)
        self.assertEqual(json.loads(body)["__type"], "SerializationException")
        # A JSON target on a GET is not a JSON call.
        status, _, body = post(url, "Firehose_20150804.ListDeliveryStreams", method="GET")
        self.assertEqual(status, 404)
        self.assertEqual(json.loads(body)["__type"], "UnknownOperationException")
        # No target: S3 REST, answered in S3's XML.
        status, headers, body = post(url, None, method="GET")
        self.assertIn(b"<?xml", body[:100])

    def test_with_keys_every_service_needs_a_valid_signature(self):
        url = self.start("--access-key", "AKIDGOOD", "--secret-key", "good-secret").url
        good = client("firehose", url, "AKIDGOOD", "good-secret")
        self.assertEqual(good.list_delivery_streams()["DeliveryStreamNames"], [])
        for svc, call in [("firehose", lambda c: c.list_delivery_streams()),
                          ("athena", lambda c: c.list_work_groups()),
                          ("glue", lambda c: c.get_databases())]:
            with self.assertRaises(Exception) as cm:
                call(client(svc, url, "AKIDGOOD", "wrong-secret"))
            self.assertEqual(cm.exception.response["ResponseMetadata"]["HTTPStatusCode"], 403, svc)
            with self.assertRaises(Exception) as cm:
                call(client(svc, url, "AKIDOTHER", "good-secret"))
            self.assertEqual(cm.exception.response["ResponseMetadata"]["HTTPStatusCode"], 403, svc)
        status, _, body = post(url, "Firehose_20150804.ListDeliveryStreams")
        self.assertEqual(status, 403, body)

    def test_beyond_loopback_keys_are_required(self):
        r = subprocess.run([BINARY, "aws", "--data-dir", str(self.data), "--listen", "0.0.0.0:0"], capture_output=True,
                           text=True, timeout=30)
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn("without access keys", r.stderr)

    def test_one_firehose_per_data_directory(self):
        self.start()
        r = subprocess.run([BINARY, "aws", "--data-dir", str(self.data), "--listen", "127.0.0.1:0"], capture_output=True,
                           text=True, timeout=30)
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn("in use by another process", r.stderr)
        self.assertIn("--no-firehose", r.stderr)
        second = self.start("--no-firehose")
        status, _, body = post(second.url, "Firehose_20150804.ListDeliveryStreams")
        self.assertEqual(json.loads(body)["__type"], "UnknownOperationException")
        # The results bucket exists for Athena from the start.
        self.assertTrue((self.data / "s3" / "orderlake-athena-results").is_dir())


if __name__ == "__main__":
    unittest.main(verbosity=2)
