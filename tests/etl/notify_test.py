"""Notification discovery with the real binaries: a standalone `orderlake firehose` and
`orderlake etl --follow` on the same data directory (the etl reads the firehose's event log,
_orderlake/events/, and deletes what it committed), and a firehose killed (ORDERLAKE_CRASH_AT)
between writing an object's event and releasing its WAL records: the etl takes the object,
the firehose then redelivers it under the same key with its event again, and the etl takes
every record exactly once (equal to an independent batch etl that lists the whole bucket).
Run: ORDERLAKE_BINARY=build/orderlake python3 tests/etl/notify_test.py"""
import glob
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

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "firehose"))
from fh_common import BINARY, Service, objects, records, s3_config, wait_for  # noqa: E402

COUNTRIES = ["United Kingdom", "France", "Germany"]


def line(i):
    return (f"{i},{i % 97}A,ITEM,{1 + i % 7},12/{1 + i % 3:02d}/2010 10:15,1.25,{12346 + i % 100},"
            f"{COUNTRIES[i % 3]}\n").encode()


def query(lake, sql):
    r = subprocess.run([BINARY, "--log-level", "warn", "query", "--lake", str(lake), "--format", "csv", sql],
                       capture_output=True, text=True, timeout=120)
    if r.returncode != 0:
        return None
    return r.stdout.strip().splitlines()[-1]


def events(bucket_dir):
    return sorted(p for p in (pathlib.Path(bucket_dir) / "_orderlake" / "events").rglob("*.json"))


class NotifyTest(unittest.TestCase):
    def setUp(self):
        self.tmp = pathlib.Path(tempfile.mkdtemp(prefix="orderlake-notify-"))
        self.data = self.tmp / "data"
        self.raw = self.data / "s3" / "raw"
        self.lake = self.tmp / "lake"
        self.svc = None
        self.etl = None

    def tearDown(self):
        if self.etl and self.etl.poll() is None:
            self.etl.kill()
            self.etl.wait()
        if self.svc:
            self.svc.stop()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def create(self):
        st, doc, _ = self.svc.call("CreateDeliveryStream",
                                   {"DeliveryStreamName": "orders", "ExtendedS3DestinationConfiguration": s3_config("raw")})
        self.assertEqual(st, 200, doc)

    def put(self, first, n):
        st, doc, _ = self.svc.call("PutRecordBatch", {"DeliveryStreamName": "orders",
                                                      "Records": records([line(i) for i in range(first, first + n)])})
        self.assertEqual(st, 200, doc)
        self.assertEqual(doc.get("FailedPutCount"), 0, doc)

    def delivered(self, n):
        return wait_for(lambda: (self.svc.metric("records_delivered_total", "orders") or 0) >= n, 30)

    def run_records(self):
        return [json.loads(pathlib.Path(p).read_text())
                for p in glob.glob(str(self.lake / "_orderlake" / "orders" / "runs" / "*.json"))]

    def test_standalone_firehose_and_etl_follow(self):
        self.svc = Service(self.data).start()
        self.create()
        log = open(self.tmp / "etl.log", "wb")
        self.etl = subprocess.Popen([BINARY, "--log-level", "info", "etl", "--follow", "--interval-ms", "200",
                                     "--input", str(self.raw), "--lake", str(self.lake), "--no-progress"],
                                    stdout=log, stderr=log)
        for b in range(6):
            self.put(b * 25, 25)
            self.assertTrue(self.delivered((b + 1) * 25))
            time.sleep(0.4)
        self.assertTrue(wait_for(lambda: query(self.lake, "SELECT count(*) FROM orders") == "150", 60, 0.5),
                        (self.tmp / "etl.log").read_text())
        self.assertTrue(wait_for(lambda: not events(self.raw), 20), events(self.raw))
        self.etl.send_signal(signal.SIGTERM)
        self.etl.wait(30)
        log.close()
        runs = self.run_records()
        delivered = [p for p in objects(self.data, "raw") if "_orderlake" not in p.parts]
        self.assertEqual(len(delivered), 6)
        # Every event read once, and the runs after the first (a full listing) were notified.
        self.assertEqual(sum(r.get("events_read", 0) for r in runs), 6, runs)
        self.assertIn("notification", [r.get("discovery") for r in runs], runs)
        self.assertEqual(sum(r["objects"] for r in runs), 6)
        self.assertEqual(query(self.lake, "SELECT count(DISTINCT InvoiceNo) FROM orders"), "150")

    def etl_once(self, lake, *extra):
        r = subprocess.run([BINARY, "--log-level", "warn", "etl", "--input", str(self.raw), "--lake", str(lake),
                            "--no-progress", *extra], capture_output=True, text=True, timeout=120)
        self.assertEqual(r.returncode, 0, r.stderr)
        return r.stdout + r.stderr

    def test_firehose_killed_between_event_and_wal_release(self):
        self.svc = Service(self.data).start()
        self.create()
        self.put(0, 10)
        self.assertTrue(self.delivered(10))
        self.svc.stop()
        self.etl_once(self.lake)  # the first run: a full listing, the event consumed
        self.assertEqual(events(self.raw), [])
        os.environ["ORDERLAKE_CRASH_AT"] = "after_delivery_event"
        try:
            self.svc = Service(self.data).start()
        finally:
            del os.environ["ORDERLAKE_CRASH_AT"]
        try:
            self.put(10, 40)
        except (OSError, AssertionError):
            pass  # the service may die before it answers: the records are in its WAL either way
        self.assertEqual(self.svc.proc.wait(30), 86)
        self.assertEqual(len(events(self.raw)), 1)
        self.svc.kill9()
        # The etl takes the object before the firehose comes back ...
        out = self.etl_once(self.lake)
        self.assertIn("discovery: notification, 1 events read, 1 objects named", out)
        self.assertEqual(events(self.raw), [])
        self.assertEqual(query(self.lake, "SELECT count(*) FROM orders"), "50")
        # ... which replays its WAL: the same object under the same key, and its event again.
        self.svc = Service(self.data).start()
        self.assertTrue(self.delivered(40))
        self.put(50, 10)
        self.assertTrue(self.delivered(50))
        self.svc.stop()
        self.svc = None
        data_objects = [p for p in objects(self.data, "raw") if "_orderlake" not in p.parts]
        self.assertEqual(len(data_objects), 3)  # redelivered under the same key
        self.assertEqual(len(events(self.raw)), 2)  # its event again, then the third object's
        out = self.etl_once(self.lake)
        self.assertIn("discovery: notification, 1 events read, 1 objects named", out)  # the repeat is at the cursor
        self.assertEqual(events(self.raw), [])
        self.assertEqual(query(self.lake, "SELECT count(*) FROM orders"), "60")
        self.assertEqual(query(self.lake, "SELECT count(DISTINCT InvoiceNo) FROM orders"), "60")
        batch = self.tmp / "batch"
        self.etl_once(batch, "--discovery", "full")
        self.assertEqual(query(batch, "SELECT count(*) FROM orders"), "60")

if __name__ == "__main__":
    unittest.main()
