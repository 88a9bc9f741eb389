"""`orderlake firehose` driven by the AWS CLI, boto3 and raw HTTP: the API, its errors,
delivery to the raw store, restart, idempotent batches, back-pressure and error output."""
import base64
import gzip
import json
import os
import pathlib
import re
import shutil
import subprocess
import sys
import time
import unittest

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fh_common import Service, objects, records, s3_config, tempdir, wait_for  # noqa: E402

AWS_ENV = dict(os.environ, AWS_ACCESS_KEY_ID="AKIDTEST", AWS_SECRET_ACCESS_KEY="secret",
               AWS_DEFAULT_REGION="us-east-1", AWS_PAGER="")


def client(svc, key="AKIDTEST", secret="secret", retries=1):
    return boto3.client("firehose", endpoint_url=svc.url, region_name="us-east-1",
                        aws_access_key_id=key, aws_secret_access_key=secret,
                        config=Config(retries={"total_max_attempts": retries, "mode": "standard"}))


def error_code(fn):
    try:
        fn()
    except ClientError as e:
        return e.response["Error"]["Code"], e.response["ResponseMetadata"]["HTTPStatusCode"]
    return None


def content(data_dir, bucket):
    objs = sorted(objects(data_dir, bucket), key=lambda p: p.stat().st_mtime_ns)
    out = b""
    for p in objs:
        b = p.read_bytes()
        out += gzip.decompress(b) if p.suffix == ".gz" else b
    return out


class FirehoseApiTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempdir()
        self.data = pathlib.Path(self.tmp.name) / "data"
        self.svc = None

    def tearDown(self):
        if self.svc:
            self.svc.stop()
        self.tmp.cleanup()

    def start(self, *extra):
        self.svc = Service(self.data, extra).start()
        return self.svc

    def test_aws_cli(self):
        aws = "/usr/bin/aws" if os.path.exists("/usr/bin/aws") else shutil.which("aws")
        self.assertTrue(aws, "the AWS CLI is needed")
        svc = self.start()

        def run(*args, ok=True):
            p = subprocess.run([aws, "--endpoint-url", svc.url, "--output", "json", "firehose", *args],
                               env=AWS_ENV, capture_output=True, text=True, timeout=120)
            if ok:
                self.assertEqual(p.returncode, 0, p.stderr)
                return json.loads(p.stdout) if p.stdout.strip() else {}
            return p

        # The CLI's own model (Debian awscli) requires IntervalInSeconds >= 60; deletion flushes.
        cfg = json.dumps(s3_config("clibucket", size=1, interval=60))
        arn = run("create-delivery-stream", "--delivery-stream-name", "cli-orders",
                  "--extended-s3-destination-configuration", cfg)["DeliveryStreamARN"]
        self.assertEqual(arn, "arn:aws:firehose:us-east-1:123456789012:deliverystream/cli-orders")
        d = run("describe-delivery-stream", "--delivery-stream-name", "cli-orders")["DeliveryStreamDescription"]
        self.assertEqual(d["DeliveryStreamStatus"], "ACTIVE")
        self.assertEqual(d["VersionId"], "1")
        ext = d["Destinations"][0]["ExtendedS3DestinationDescription"]
        self.assertEqual(ext["BucketARN"], "arn:aws:s3:::clibucket")
        self.assertEqual(ext["BufferingHints"], {"SizeInMBs": 1, "IntervalInSeconds": 60})
        self.assertEqual(run("list-delivery-streams")["DeliveryStreamNames"], ["cli-orders"])
        run("create-delivery-stream", "--delivery-stream-name", "cli-other",
            "--extended-s3-destination-configuration", cfg)
        page = run("list-delivery-streams", "--limit", "1")
        self.assertEqual((page["DeliveryStreamNames"], page["HasMoreDeliveryStreams"]), (["cli-orders"], True))
        page = run("list-delivery-streams", "--limit", "1", "--exclusive-start-delivery-stream-name", "cli-orders")
        self.assertEqual((page["DeliveryStreamNames"], page["HasMoreDeliveryStreams"]), (["cli-other"], False))
        run("delete-delivery-stream", "--delivery-stream-name", "cli-other")
        sent = b"536365,85123A,WHITE HANGING HEART T-LIGHT HOLDER,6,12/01/2010 08:26,2.55,17850,United Kingdom\n"
        r = run("put-record", "--delivery-stream-name", "cli-orders", "--cli-binary-format", "base64",
                "--record", json.dumps({"Data": base64.b64encode(sent).decode()}))
        self.assertTrue(r["RecordId"])
        batch = [f"line {i},x\n".encode() for i in range(500)]
        recs_file = pathlib.Path(self.tmp.name) / "recs.json"
        recs_file.write_text(json.dumps(records(batch)))
        r = run("put-record-batch", "--delivery-stream-name", "cli-orders", "--cli-binary-format", "base64",
                "--records", f"file://{recs_file}")
        self.assertEqual(r["FailedPutCount"], 0)
        self.assertEqual(len(r["RequestResponses"]), 500)
        bad = run("describe-delivery-stream", "--delivery-stream-name", "missing", ok=False)
        self.assertNotEqual(bad.returncode, 0)
        self.assertIn("ResourceNotFoundException", bad.stderr)
        run("delete-delivery-stream", "--delivery-stream-name", "cli-orders")
        self.assertTrue(wait_for(lambda: run("list-delivery-streams")["DeliveryStreamNames"] == []))
        self.assertEqual(content(self.data, "clibucket"), sent + b"".join(batch))
        obj = objects(self.data, "clibucket")[0]
        rel = obj.relative_to(self.data / "s3" / "clibucket").as_posix()
        self.assertRegex(rel, r"^\d{4}/\d{2}/\d{2}/\d{2}/cli-orders-1-\d{4}-\d{2}-\d{2}-\d{2}-\d{2}-\d{2}-"
                              r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")

    def test_boto3_create_list_put_delete(self):
        svc = self.start()
        fh = client(svc)
        names = [f"s{i:02d}" for i in range(12)]
        for n in names:
            fh.create_delivery_stream(DeliveryStreamName=n, ExtendedS3DestinationConfiguration=s3_config("b-" + n))
        page = fh.list_delivery_streams(Limit=5)
        self.assertEqual(page["DeliveryStreamNames"], names[:5])
        self.assertTrue(page["HasMoreDeliveryStreams"])
        page = fh.list_delivery_streams(Limit=5, ExclusiveStartDeliveryStreamName="s04")
        self.assertEqual(page["DeliveryStreamNames"], names[5:10])
        page = fh.list_delivery_streams(ExclusiveStartDeliveryStreamName="s09")
        self.assertEqual(page["DeliveryStreamNames"], names[10:])
        self.assertFalse(page["HasMoreDeliveryStreams"])
        self.assertEqual(len(fh.list_delivery_streams()["DeliveryStreamNames"]), 10)
        self.assertEqual(error_code(lambda: fh.create_delivery_stream(
            DeliveryStreamName="s00", ExtendedS3DestinationConfiguration=s3_config("x"))),
            ("ResourceInUseException", 400))

        # 500 records of varied sizes, interval 0: one object holding exactly these bytes.
        batch = [(f"{i}," + "x" * (i % 97) + "\n").encode() for i in range(500)]
        t0 = time.time()
        r = fh.put_record_batch(DeliveryStreamName="s00", Records=[{"Data": b} for b in batch])
        self.assertEqual(r["FailedPutCount"], 0)
        self.assertEqual(len(r["RequestResponses"]), 500)
        self.assertEqual(len({x["RecordId"] for x in r["RequestResponses"]}), 500)
        self.assertTrue(wait_for(lambda: content(self.data, "b-s00") == b"".join(batch), timeout=10))
        self.assertLess(time.time() - t0, 5, "interval 0 should deliver promptly")
        one = fh.put_record(DeliveryStreamName="s00", Record={"Data": b"\x00\xffbinary\n"})
        self.assertTrue(one["RecordId"])
        self.assertTrue(wait_for(lambda: content(self.data, "b-s00") == b"".join(batch) + b"\x00\xffbinary\n"))
        self.assertEqual(svc.metric("records_in_total", "s00"), 501)
        self.assertTrue(wait_for(lambda: svc.metric("records_delivered_total", "s00") == 501))
        self.assertEqual(svc.get("/health")[0], 200)

        d = fh.describe_delivery_stream(DeliveryStreamName="s01")["DeliveryStreamDescription"]
        self.assertEqual(d["DeliveryStreamType"], "DirectPut")
        self.assertEqual(d["Destinations"][0]["ExtendedS3DestinationDescription"]["CompressionFormat"],
                         "UNCOMPRESSED")
        fh.delete_delivery_stream(DeliveryStreamName="s01")
        self.assertTrue(wait_for(lambda: "s01" not in fh.list_delivery_streams(Limit=100)["DeliveryStreamNames"]))
        self.assertEqual(error_code(lambda: fh.describe_delivery_stream(DeliveryStreamName="s01")),
                         ("ResourceNotFoundException", 400))

    def test_error_paths(self):
        svc = self.start()
        fh = client(svc)
        fh.create_delivery_stream(DeliveryStreamName="e", ExtendedS3DestinationConfiguration=s3_config("e"))
        self.assertEqual(error_code(lambda: fh.put_record(DeliveryStreamName="nope", Record={"Data": b"x"})),
                         ("ResourceNotFoundException", 400))
        self.assertEqual(error_code(lambda: fh.put_record_batch(
            DeliveryStreamName="e", Records=[{"Data": b"x"}] * 501)), ("InvalidArgumentException", 400))
        self.assertEqual(error_code(lambda: fh.put_record(
            DeliveryStreamName="e", Record={"Data": b"x" * 1024001})), ("InvalidArgumentException", 400))
        fh.put_record(DeliveryStreamName="e", Record={"Data": b"x" * 1024000})  # exactly the limit
        self.assertEqual(error_code(lambda: fh.put_record_batch(
            DeliveryStreamName="e", Records=[{"Data": b"y" * 1000000}] * 5)), ("InvalidArgumentException", 400))
        st, doc, hdr = svc.call("PutRecordBatch", None, raw=b'{"DeliveryStreamName": "e", "Records": [')
        self.assertEqual((st, doc["__type"]), (400, "SerializationException"))
        self.assertIn("x-amzn-RequestId", hdr)
        st, doc, _ = svc.call("PutRecordBatch", {"DeliveryStreamName": "e", "Records": [{"Data": "not base64!"}]})
        self.assertEqual((st, doc["__type"]), (400, "SerializationException"))
        st, doc, _ = svc.call("PutRecord", {"DeliveryStreamName": "e", "Record": {"Data": "YWJj="}})
        self.assertEqual((st, doc["__type"]), (400, "SerializationException"))
        st, doc, _ = svc.call("TagDeliveryStream", {"DeliveryStreamName": "e"})
        self.assertEqual((st, doc["__type"]), (400, "UnknownOperationException"))
        st, doc, _ = svc.call("PutRecordBatch", {"DeliveryStreamName": "e", "Records": []})
        self.assertEqual((st, doc["__type"]), (400, "InvalidArgumentException"))

        def create(name="c", **kw):
            return error_code(lambda: fh.create_delivery_stream(DeliveryStreamName=name, **kw))
        redshift = {"RoleARN": "arn:aws:iam::123456789012:role/r", "ClusterJDBCURL": "jdbc:redshift://x",
                    "CopyCommand": {"DataTableName": "t"}, "Username": "user", "Password": "password1",
                    "S3Configuration": {"RoleARN": "arn:aws:iam::123456789012:role/r", "BucketARN": "arn:aws:s3:::b"}}
        self.assertEqual(create(RedshiftDestinationConfiguration=redshift), ("InvalidArgumentException", 400))
        try:
            fh.create_delivery_stream(DeliveryStreamName="c", RedshiftDestinationConfiguration=redshift)
        except ClientError as e:
            self.assertIn("RedshiftDestinationConfiguration", e.response["Error"]["Message"])
        self.assertEqual(create(ExtendedS3DestinationConfiguration=s3_config(
            "b", ProcessingConfiguration={"Enabled": True, "Processors": []})), ("InvalidArgumentException", 400))
        self.assertEqual(create(ExtendedS3DestinationConfiguration=s3_config(
            "b", CompressionFormat="Snappy")), ("InvalidArgumentException", 400))
        self.assertEqual(create(ExtendedS3DestinationConfiguration={
            "RoleARN": "arn:aws:iam::123456789012:role/f", "BucketARN": "arn:aws:s3:::b",
            "BufferingHints": {"SizeInMBs": 5}}), ("InvalidArgumentException", 400))
        self.assertEqual(create(ExtendedS3DestinationConfiguration=s3_config("b", size=129)),
                         ("InvalidArgumentException", 400))
        self.assertEqual(create(ExtendedS3DestinationConfiguration=s3_config(
            "b", Prefix="x/!{timestamp:yyyy}/")), ("InvalidArgumentException", 400))
        self.assertEqual(create(ExtendedS3DestinationConfiguration=s3_config(
            "b", Prefix="x/!{timestamp:yyyy-QQ}/", ErrorOutputPrefix="e/!{firehose:error-output-type}/")),
            ("InvalidArgumentException", 400))
        self.assertEqual(create(ExtendedS3DestinationConfiguration=s3_config(
            "b", Prefix="x/!{firehose:error-output-type}/", ErrorOutputPrefix="e/!{firehose:error-output-type}/")),
            ("InvalidArgumentException", 400))
        self.assertEqual(create(ExtendedS3DestinationConfiguration=s3_config(
            "b", Prefix="p" * 600)), ("InvalidArgumentException", 400))
        self.assertEqual(create(name="bad name!", ExtendedS3DestinationConfiguration=s3_config("b")),
                         ("InvalidArgumentException", 400))
        self.assertEqual(create(KinesisStreamSourceConfiguration={
            "KinesisStreamARN": "arn:aws:kinesis:us-east-1:123456789012:stream/s",
            "RoleARN": "arn:aws:iam::123456789012:role/r"}, DeliveryStreamType="KinesisStreamAsSource",
            ExtendedS3DestinationConfiguration=s3_config("b")), ("InvalidArgumentException", 400))

    def test_signature_verification(self):
        svc = self.start("--access-key", "AKIDGOOD", "--secret-key", "goodsecret")
        ok = client(svc, "AKIDGOOD", "goodsecret")
        ok.create_delivery_stream(DeliveryStreamName="sig", ExtendedS3DestinationConfiguration=s3_config("sig"))
        ok.put_record_batch(DeliveryStreamName="sig", Records=[{"Data": b"signed\n"}] * 3)
        self.assertEqual(error_code(lambda: client(svc, "AKIDGOOD", "wrong").list_delivery_streams()),
                         ("InvalidSignatureException", 403))
        self.assertEqual(error_code(lambda: client(svc, "AKIDOTHER", "goodsecret").list_delivery_streams()),
                         ("UnrecognizedClientException", 403))
        st, doc, _ = svc.call("ListDeliveryStreams", {})
        self.assertEqual((st, doc["__type"]), (403, "MissingAuthenticationTokenException"))
        self.assertTrue(wait_for(lambda: content(self.data, "sig") == b"signed\n" * 3))

    def test_non_loopback_without_keys_refused(self):
        from fh_common import BINARY
        p = subprocess.run([BINARY, "firehose", "--listen", "0.0.0.0:0", "--data-dir", str(self.data)],
                           capture_output=True, text=True, timeout=30)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("without access keys", p.stderr)

    def test_gzip_and_prefix_expressions(self):
        svc = self.start()
        fh = client(svc)
        fh.create_delivery_stream(DeliveryStreamName="gz", ExtendedS3DestinationConfiguration=s3_config(
            "gzb", CompressionFormat="GZIP",
            Prefix="orders/year=!{timestamp:yyyy}/m=!{timestamp:MM}/d=!{timestamp:dd}/'!{timestamp:yy-HH'h'}'/"
                   "!{firehose:random-string}/",
            ErrorOutputPrefix="errors/!{firehose:error-output-type}/!{timestamp:yyyy}/"))
        sent = [f"gz record {i}\n".encode() for i in range(300)]
        fh.put_record_batch(DeliveryStreamName="gz", Records=[{"Data": b} for b in sent])
        self.assertTrue(wait_for(lambda: objects(self.data, "gzb")))
        obj = objects(self.data, "gzb")[0]
        self.assertEqual(gzip.decompress(obj.read_bytes()), b"".join(sent))
        rel = obj.relative_to(self.data / "s3" / "gzb").as_posix()
        now = time.gmtime()
        self.assertRegex(rel, r"^orders/year=%04d/m=%02d/d=%02d/'\d\d-\d\dh'/[a-z0-9]{11}/gz-1-.*\.gz$"
                         % (now.tm_year, now.tm_mon, now.tm_mday))

    def test_streams_and_records_survive_restart(self):
        svc = self.start()
        fh = client(svc)
        fh.create_delivery_stream(DeliveryStreamName="keep", ExtendedS3DestinationConfiguration=s3_config(
            "keep", size=64, interval=900))
        sent = [f"durable {i}\n".encode() for i in range(1000)]
        for k in range(0, 1000, 250):
            fh.put_record_batch(DeliveryStreamName="keep", Records=[{"Data": b} for b in sent[k:k + 250]])
        svc.kill9()
        self.assertEqual(objects(self.data, "keep"), [])
        svc = self.start()
        fh = client(svc)
        d = fh.describe_delivery_stream(DeliveryStreamName="keep")["DeliveryStreamDescription"]
        self.assertEqual(d["Destinations"][0]["ExtendedS3DestinationDescription"]["BufferingHints"]["SizeInMBs"], 64)
        self.assertEqual(svc.metric("buffered_records", "keep"), 1000)
        fh.delete_delivery_stream(DeliveryStreamName="keep")  # deleting flushes the buffer
        self.assertTrue(wait_for(lambda: content(self.data, "keep") == b"".join(sent)))

    def test_idempotent_batches(self):
        svc = self.start()
        fh = client(svc)
        fh.create_delivery_stream(DeliveryStreamName="idem", ExtendedS3DestinationConfiguration=s3_config(
            "idem", size=64, interval=900))
        body = {"DeliveryStreamName": "idem", "Records": records([b"a\n", b"b\n"])}
        h = {"X-Orderlake-Batch": "host1:/var/log/orders/f1.log;0;4"}
        st, doc, _ = svc.call("PutRecordBatch", body, headers=h)
        self.assertEqual((st, doc["FailedPutCount"]), (200, 0))
        first_ids = [r["RecordId"] for r in doc["RequestResponses"]]
        st, doc, _ = svc.call("PutRecordBatch", body, headers=h)  # replay: success, nothing stored
        self.assertEqual((st, doc["FailedPutCount"], len(doc["RequestResponses"])), (200, 0, 2))
        self.assertNotEqual(first_ids, [r["RecordId"] for r in doc["RequestResponses"]])
        self.assertEqual(svc.metric("records_in_total", "idem"), 2)
        st, _, _ = svc.call("PutRecordBatch", {"DeliveryStreamName": "idem", "Records": records([b"c\n"])},
                            headers={"X-Orderlake-Batch": "host1:/var/log/orders/f1.log;4;6"})
        self.assertEqual(st, 200)
        st, doc, _ = svc.call("PutRecordBatch", body, headers={"X-Orderlake-Batch": "broken"})
        self.assertEqual((st, doc["__type"]), (400, "InvalidArgumentException"))
        # The high-water mark survives a crash.
        svc.kill9()
        svc = self.start()
        st, _, _ = svc.call("PutRecordBatch", body, headers=h)
        self.assertEqual(st, 200)
        st, _, _ = svc.call("PutRecordBatch", {"DeliveryStreamName": "idem", "Records": records([b"c\n"])},
                            headers={"X-Orderlake-Batch": "host1:/var/log/orders/f1.log;4;6"})
        self.assertEqual(st, 200)
        self.assertEqual(svc.metric("buffered_records", "idem"), 3)
        client(svc).delete_delivery_stream(DeliveryStreamName="idem")
        self.assertTrue(wait_for(lambda: content(self.data, "idem") == b"a\nb\nc\n"))

    def test_backpressure(self):
        (self.data / "s3").mkdir(parents=True)
        (self.data / "s3" / "blocked").write_text("a file where the bucket directory should be")
        svc = self.start("--max-buffer-mb", "1")
        fh = client(svc)
        fh.create_delivery_stream(DeliveryStreamName="bp", ExtendedS3DestinationConfiguration=s3_config("blocked"))
        rec = [{"Data": b"z" * 100000}] * 4
        codes = [error_code(lambda: fh.put_record_batch(DeliveryStreamName="bp", Records=rec)) for _ in range(6)]
        self.assertIn(("ServiceUnavailableException", 503), codes)
        self.assertEqual(codes[0], None)
        self.assertGreater(svc.metric("backpressure_rejections_total", "bp"), 0)

    def test_failed_delivery_goes_to_error_output(self):
        (self.data / "s3" / "eb").mkdir(parents=True)
        (self.data / "s3" / "eb" / "data").write_text("blocks the data/ prefix")
        svc = self.start("--delivery-retry-seconds", "1")
        fh = client(svc)
        fh.create_delivery_stream(DeliveryStreamName="err", ExtendedS3DestinationConfiguration=s3_config(
            "eb", Prefix="data/", ErrorOutputPrefix="errors/"))
        fh.put_record_batch(DeliveryStreamName="err", Records=[{"Data": b"r1\n"}, {"Data": b"r2\n"}])
        found = wait_for(lambda: [p for p in objects(self.data, "eb") if "errors/" in p.as_posix()], timeout=20)
        self.assertTrue(found)
        docs = [json.loads(l) for l in found[0].read_text().splitlines()]
        self.assertEqual([base64.b64decode(d["rawData"]) for d in docs], [b"r1\n", b"r2\n"])
        for d in docs:
            self.assertGreaterEqual(d["attemptsMade"], 1)
            self.assertIn("lastErrorMessage", d)
            self.assertIn("lastErrorCode", d)
            self.assertGreater(d["arrivalTimestamp"], 1_600_000_000_000)
        self.assertTrue(wait_for(lambda: svc.metric("delivery_failures_total", "err") == 2))


if __name__ == "__main__":
    unittest.main(verbosity=2)
