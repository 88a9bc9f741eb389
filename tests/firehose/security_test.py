"""Hostile requests to `orderlake firehose`: a Prefix or ErrorOutputPrefix that would put
objects outside their bucket is refused, and on a signed request the X-Orderlake-Batch header
(which decides whether records are stored) must be covered by the signature, so a replayed
request with the header added cannot make the agent's later batch vanish."""
import json
import os
import pathlib
import sys
import unittest
import urllib.error
import urllib.request

import boto3
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fh_common import Service, records, s3_config, tempdir  # noqa: E402


def client(svc, key="AKIDTEST", secret="secret"):
    return boto3.client("firehose", endpoint_url=svc.url, region_name="us-east-1",
                        aws_access_key_id=key, aws_secret_access_key=secret,
                        config=Config(retries={"total_max_attempts": 1, "mode": "standard"}))


def error_of(fn):
    try:
        fn()
    except ClientError as e:
        return e.response["Error"]["Code"], e.response["Error"]["Message"]
    return None


class FirehoseSecurityTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempdir()
        self.root = pathlib.Path(self.tmp.name)
        self.data = self.root / "a" / "b" / "c" / "data"
        self.data.parent.mkdir(parents=True)
        self.svc = None

    def tearDown(self):
        if self.svc:
            self.svc.stop()
        self.tmp.cleanup()

    def files_outside_data(self):
        """Files anywhere under the temporary root but the data dir and the service's log."""
        log = self.data.parent / "data.log"
        return sorted(str(p) for p in self.root.rglob("*")
                      if p.is_file() and p != log and self.data not in p.parents)

    def test_prefixes_that_leave_the_bucket_are_refused(self):
        self.svc = Service(self.data).start()
        fh = client(self.svc)
        bad = [
            ("Prefix", "../../../../escaped/"),
            ("Prefix", "/abs/olute/"),
            ("Prefix", "logs/../../../escaped/"),
            ("Prefix", "logs/./x/"),
            ("Prefix", "x/!{timestamp:'..'}/"),  # quoted pattern text is evaluated too
            ("Prefix", "nul\u0000byte/"),
            ("Prefix", "new\nline/"),
            ("ErrorOutputPrefix", "../../../err/!{firehose:error-output-type}/"),
        ]
        for i, (field, value) in enumerate(bad):
            cfg = s3_config("raw")
            if field == "ErrorOutputPrefix":
                cfg["Prefix"] = "ok/!{timestamp:yyyy}/"
            cfg[field] = value
            err = error_of(lambda: fh.create_delivery_stream(DeliveryStreamName=f"bad{i}",
                                                             ExtendedS3DestinationConfiguration=cfg))
            self.assertIsNotNone(err, f"{field}={value!r} was accepted")
            self.assertEqual(err[0], "InvalidArgumentException", (value, err))
            self.assertIn(field, err[1], (value, err))
        self.assertEqual(fh.list_delivery_streams()["DeliveryStreamNames"], [])
        # A stream whose prefix stays inside still delivers, inside its bucket only.
        fh.create_delivery_stream(DeliveryStreamName="good", ExtendedS3DestinationConfiguration=s3_config(
            "raw", size=1, interval=60))
        fh.delete_delivery_stream(DeliveryStreamName="good")
        self.assertEqual(self.files_outside_data(), [])

    def signed(self, body, add_header_after_signing=None, sign_header=None):
        """A PutRecordBatch signed by botocore; headers added after signing are not in SignedHeaders."""
        headers = {"X-Amz-Target": "Firehose_20150804.PutRecordBatch",
                   "Content-Type": "application/x-amz-json-1.1"}
        if sign_header:
            headers["X-Orderlake-Batch"] = sign_header
        req = AWSRequest(method="POST", url=self.svc.url + "/", data=json.dumps(body).encode(), headers=headers)
        SigV4Auth(Credentials("AKIDTEST", "secret"), "firehose", "us-east-1").add_auth(req)
        prepared = dict(req.headers.items())
        if add_header_after_signing:
            prepared["X-Orderlake-Batch"] = add_header_after_signing
        r = urllib.request.Request(self.svc.url + "/", data=req.body, headers=prepared, method="POST")
        try:
            with urllib.request.urlopen(r, timeout=30) as resp:
                return resp.status, json.loads(resp.read())
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read())

    def test_the_batch_header_must_be_signed(self):
        self.svc = Service(self.data, ("--access-key", "AKIDTEST", "--secret-key", "secret")).start()
        client(self.svc).create_delivery_stream(DeliveryStreamName="idem", ExtendedS3DestinationConfiguration=s3_config(
            "idem", size=64, interval=900))
        body = {"DeliveryStreamName": "idem", "Records": records([b"a\n", b"b\n"])}
        # The attack: a captured signed request replayed with a high mark added outside the signature.
        st, doc = self.signed(body, add_header_after_signing="agent:/var/log/orders.log;0;999999999999")
        self.assertEqual((st, doc["__type"]), (403, "InvalidSignatureException"), doc)
        self.assertIn("X-Orderlake-Batch", doc["message"])
        self.assertEqual(self.svc.metric("records_in_total", "idem"), 0)
        # The agent's legitimate batch, with the header signed, is stored.
        st, doc = self.signed(body, sign_header="agent:/var/log/orders.log;0;4")
        self.assertEqual((st, doc["FailedPutCount"]), (200, 0), doc)
        self.assertEqual(self.svc.metric("records_in_total", "idem"), 2)
        # Changing a signed header's value breaks the signature.
        st, doc = self.signed(body, sign_header="agent:/var/log/orders.log;4;8",
                              add_header_after_signing="agent:/var/log/orders.log;4;999999999999")
        self.assertEqual((st, doc["__type"]), (403, "InvalidSignatureException"), doc)
        self.assertEqual(self.svc.metric("records_in_total", "idem"), 2)
        # Without the header a signed request is an ordinary PutRecordBatch.
        st, doc = self.signed(body)
        self.assertEqual((st, doc["FailedPutCount"]), (200, 0), doc)
        self.assertEqual(self.svc.metric("records_in_total", "idem"), 4)


if __name__ == "__main__":
    unittest.main()
