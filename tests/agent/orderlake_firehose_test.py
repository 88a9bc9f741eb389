"""The agent against `orderlake firehose` (SigV4 verified, X-Orderlake-Batch honoured): records
arrive, and with kill -9 of the agent, and separately of the firehose service, at random
moments while the generator writes, the raw store holds every line exactly once.
Run: ORDERLAKE_BINARY=build/orderlake python3 tests/agent/orderlake_firehose_test.py [test_name ...]"""
import collections
import glob
import os
import random
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from agenttest import BINARY, append, flow, free_port, lines, main, run_once, start, wait_for, write_config  # noqa: E402

import boto3  # noqa: E402


class Firehose:
    def __init__(self, d):
        self.dir = os.path.join(d, "fh")
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = open(os.path.join(d, "firehose.log"), "ab")
        self.proc = None
        self.start()
        self.client = boto3.client("firehose", endpoint_url=self.url, region_name="us-east-1",
                                   aws_access_key_id="AKIDTEST", aws_secret_access_key="secret")

    def start(self):
        self.proc = subprocess.Popen([BINARY, "firehose", "--listen", f"127.0.0.1:{self.port}", "--data-dir", self.dir,
                                      "--access-key", "AKIDTEST", "--secret-key", "secret"],
                                     stdout=subprocess.DEVNULL, stderr=self.log)

        def up():
            import socket
            try:
                socket.create_connection(("127.0.0.1", self.port), 0.2).close()
                return True
            except OSError:
                return False
        wait_for(up, 30, "orderlake firehose")

    def kill(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def create_stream(self, name, bucket):
        self.client.create_delivery_stream(
            DeliveryStreamName=name,
            ExtendedS3DestinationConfiguration={
                "RoleARN": "arn:aws:iam::123456789012:role/firehose", "BucketARN": f"arn:aws:s3:::{bucket}",
                "BufferingHints": {"SizeInMBs": 1, "IntervalInSeconds": 1}})
        wait_for(lambda: self.client.describe_delivery_stream(DeliveryStreamName=name)
                 ["DeliveryStreamDescription"]["DeliveryStreamStatus"] == "ACTIVE", 30, "ACTIVE")

    def raw_lines(self, bucket):
        out = []
        root = os.path.join(self.dir, "s3", bucket)
        for f in sorted(glob.glob(os.path.join(root, "**", "*"), recursive=True)):
            # The data objects, as Athena sees the bucket: not the firehose's event log
            # (_orderlake/events/) nor temporaries (.name).
            parts = os.path.relpath(f, root).split(os.sep)
            if os.path.isfile(f) and not any(p.startswith(("_", ".")) for p in parts):
                with open(f, "rb") as fh:
                    out += fh.read().splitlines(keepends=True)
        return out

    def close(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(20)
        self.log.close()


def written_lines(logs):
    out = []
    for f in sorted(glob.glob(os.path.join(logs, "*.log"))):
        with open(f, "rb") as fh:
            out += fh.read().splitlines(keepends=True)
    return out


def check_exactly_once(fh, written, what):
    want = collections.Counter(written)
    wait_for(lambda: sum(collections.Counter(fh.raw_lines("raw")).values()) >= len(written), 60, "delivery to raw")
    time.sleep(1.5)   # anything more would be a duplicate
    have = collections.Counter(fh.raw_lines("raw"))
    missing, extra = want - have, have - want
    assert not missing, f"{what}: {sum(missing.values())} lines lost"
    assert not extra, f"{what}: {sum(extra.values())} lines stored twice"


def test_records_arrive_in_orderlake_firehose(d):
    fh = Firehose(d)
    try:
        fh.create_stream("tbsm-red-fire", "raw")
        logs = os.path.join(d, "orders")
        os.makedirs(logs)
        append(os.path.join(logs, "a.log"), lines("A", 0, 1500))
        append(os.path.join(logs, "b.log"), lines("B", 0, 10) + [b"caf\xc3\xa9 \xff binary \x00 line\n"])
        cfg = write_config(os.path.join(d, "agent.json"), fh.url,
                           [{"filePattern": os.path.join(logs, "*.log"), "deliveryStream": "tbsm-red-fire",
                             "initialPosition": "START_OF_FILE"}])
        rc, out, err = run_once(cfg)
        assert rc == 0, err
        check_exactly_once(fh, written_lines(logs), "delivery")
        # A second run sends nothing again (checkpoint), a run without checkpoint is dropped by the tokens.
        rc, out, err = run_once(cfg)
        assert rc == 0, err
        os.remove(os.path.join(d, "checkpoints.json"))
        rc, out, err = run_once(cfg)
        assert rc == 0, err
        check_exactly_once(fh, written_lines(logs), "replay without checkpoint")
    finally:
        fh.close()


def crash_run(d, kill_agent):
    fh = Firehose(d)
    try:
        fh.create_stream("orders", "raw")
        logs = os.path.join(d, "logs")
        os.makedirs(logs)
        cfg = write_config(os.path.join(d, "agent.json"), fh.url,
                           [flow(os.path.join(logs, "*.log"), "orders", maxBufferSizeRecords=200,
                                 retryMaxBackoffMillis=200)])
        gen = subprocess.Popen([BINARY, "generate", "--out", logs, "--rate", "2000", "--duration", "5",
                                "--rotate-interval", "2", "--seed", "13", "--progress-interval", "0"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        rng = random.Random(17 if kill_agent else 19)
        kills = 0
        agent = start(cfg)
        while gen.poll() is None:
            time.sleep(rng.uniform(0.3, 1.0))
            if kill_agent:
                agent.send_signal(signal.SIGKILL)
                agent.wait()
                agent = start(cfg)
            else:
                fh.kill()
                time.sleep(rng.uniform(0.0, 0.3))
                fh.start()
            kills += 1
        assert gen.returncode == 0
        agent.send_signal(signal.SIGTERM)
        agent.wait(30)
        rc, out, err = run_once(cfg, timeout=120)
        assert rc == 0, err
        written = written_lines(logs)
        check_exactly_once(fh, written, f"{kills} kills of the {'agent' if kill_agent else 'firehose'}")
        print(f"     {len(written)} lines, {kills} kills", flush=True)
    finally:
        fh.close()


def test_kill_9_agent_exactly_once(d):
    crash_run(d, kill_agent=True)


def test_kill_9_firehose_exactly_once(d):
    crash_run(d, kill_agent=False)


if __name__ == "__main__":
    main([test_records_arrive_in_orderlake_firehose, test_kill_9_agent_exactly_once, test_kill_9_firehose_exactly_once])
