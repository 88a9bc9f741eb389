"""The agent against moto's Firehose server (a third-party implementation of the API, which
delivers each PutRecordBatch into its own S3): records arrive byte for byte, and a crash test
(kill -9 at random moments while the generator writes, then restarts) loses no line.
Run: ORDERLAKE_BINARY=build/orderlake python3 tests/agent/moto_test.py [test_name ...]"""
import collections
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from agenttest import (BINARY, append, flow, free_port, kill_agent_while_generating, lines, main,  # noqa: E402
                       run_once, start, wait_for, write_config)

import boto3  # noqa: E402


class Moto:
    def __init__(self, d):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = open(os.path.join(d, "moto.log"), "wb")
        self.proc = subprocess.Popen(["moto_server", "-H", "127.0.0.1", "-p", str(self.port)], stdout=self.log,
                                     stderr=subprocess.STDOUT)
        kw = dict(endpoint_url=self.url, region_name="us-east-1", aws_access_key_id="AKIDTEST",
                  aws_secret_access_key="secret")
        self.s3 = boto3.client("s3", **kw)
        self.firehose = boto3.client("firehose", **kw)

        def up():
            try:
                self.s3.list_buckets()
                return True
            except Exception:
                return False
        wait_for(up, 30, "moto_server")

    def create_stream(self, name, bucket):
        self.s3.create_bucket(Bucket=bucket)
        self.firehose.create_delivery_stream(
            DeliveryStreamName=name,
            ExtendedS3DestinationConfiguration={
                "RoleARN": "arn:aws:iam::123456789012:role/firehose", "BucketARN": f"arn:aws:s3:::{bucket}",
                "BufferingHints": {"SizeInMBs": 1, "IntervalInSeconds": 60}})

    def objects(self, bucket):
        keys, token = [], None
        while True:
            kw = {"Bucket": bucket}
            if token:
                kw["ContinuationToken"] = token
            r = self.s3.list_objects_v2(**kw)
            keys += [o["Key"] for o in r.get("Contents", [])]
            if not r.get("IsTruncated"):
                return keys
            token = r["NextContinuationToken"]

    def data(self, bucket):
        return b"".join(self.s3.get_object(Bucket=bucket, Key=k)["Body"].read() for k in sorted(self.objects(bucket)))

    def close(self):
        self.proc.terminate()
        self.proc.wait(10)
        self.log.close()


def test_records_arrive_in_moto(d):
    m = Moto(d)
    try:
        m.create_stream("tbsm-red-fire", "raw")
        logs = os.path.join(d, "orders")
        os.makedirs(logs)
        append(os.path.join(logs, "a.log"), lines("A", 0, 1200))
        append(os.path.join(logs, "b.log"), lines("B", 0, 10) + [b"caf\xc3\xa9 \xff binary \x00 line\n"])
        # The original project's agent.json shape, pointed at moto.
        cfg = write_config(os.path.join(d, "agent.json"), m.url,
                           [{"filePattern": os.path.join(logs, "*.log"), "deliveryStream": "tbsm-red-fire",
                             "initialPosition": "START_OF_FILE"}], **{"cloudwatch.emitMetrics": True})
        rc, out, err = run_once(cfg)
        assert rc == 0, err
        data = m.data("raw")
        got = data.splitlines(keepends=True)
        assert sorted(got) == sorted(lines("A", 0, 1200) + lines("B", 0, 10) + [b"caf\xc3\xa9 \xff binary \x00 line\n"])
        keys = m.objects("raw")
        assert all(k.count("/") == 4 and "/tbsm-red-fire-1-" in k for k in keys), keys[:3]
    finally:
        m.close()


def test_kill_9_loses_no_line(d):
    m = Moto(d)
    try:
        m.create_stream("orders", "raw")
        logs = os.path.join(d, "logs")
        os.makedirs(logs)
        cfg = write_config(os.path.join(d, "agent.json"), m.url,
                           [flow(os.path.join(logs, "*.log"), "orders", maxBufferSizeRecords=200)])
        written, kills = kill_agent_while_generating(cfg, logs, seed=11, pauses=(0.3, 1.2), rng_seed=7)
        got = m.data("raw").splitlines(keepends=True)
        want, have = collections.Counter(written), collections.Counter(got)
        missing = want - have
        assert not missing, f"{sum(missing.values())} lines lost, e.g. {list(missing)[:3]}"
        extra = have - want
        assert all(x in want for x in extra), "lines that were never written arrived"
        # At-least-once against a foreign Firehose: only batches acknowledged in the moments
        # before a kill (not yet in the checkpoint) come again.
        dups = sum(extra.values())
        assert dups <= kills * 2000, f"{dups} duplicates after {kills} kills"
        print(f"     {len(written)} lines, {kills} kills, {dups} duplicates", flush=True)
    finally:
        m.close()


if __name__ == "__main__":
    main([test_records_arrive_in_moto, test_kill_9_loses_no_line])
