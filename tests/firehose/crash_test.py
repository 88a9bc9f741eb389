"""Crash test: concurrent clients send distinct numbered records while the service is killed
with SIGKILL at random moments and restarted on the same data directory. At the end every
acknowledged record is in the raw store exactly once, and no record is there twice."""
import base64
import http.client
import json
import os
import pathlib
import random
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fh_common import Service, objects, s3_config, tempdir, wait_for  # noqa: E402

CLIENTS = 4
KILLS = int(os.environ.get("FIREHOSE_CRASH_KILLS", "4"))
STREAMS = {"prompt": ("crashbucket", 1, 0),   # interval 0: many small objects
           "sized": ("crashbucket2", 1, 1)}   # 1 MiB / 1 s


class Client(threading.Thread):
    def __init__(self, cid, port_ref, stop):
        super().__init__(daemon=True)
        self.cid, self.port_ref, self.stop = cid, port_ref, stop
        self.acked, self.sent = set(), set()
        self.next = 0
        self.rng = random.Random(cid)

    def run(self):
        conn, port = None, None
        while not self.stop.is_set():
            stream = "prompt" if self.rng.random() < 0.5 else "sized"
            n = self.rng.randint(1, 200)
            recs = [f"c{self.cid}-{self.next + i:09d}\n" for i in range(n)]
            self.next += n
            body = json.dumps({"DeliveryStreamName": stream,
                               "Records": [{"Data": base64.b64encode(r.encode()).decode()} for r in recs]})
            self.sent.update(recs)
            try:
                if conn is None or port != self.port_ref[0]:
                    port = self.port_ref[0]
                    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
                conn.request("POST", "/", body=body, headers={
                    "Content-Type": "application/x-amz-json-1.1",
                    "X-Amz-Target": "Firehose_20150804.PutRecordBatch"})
                r = conn.getresponse()
                doc = json.loads(r.read())
                if r.status == 200 and doc.get("FailedPutCount") == 0:
                    self.acked.update(recs)
            except (OSError, http.client.HTTPException, ValueError):
                if conn is not None:
                    conn.close()
                conn = None
                time.sleep(0.02)
        if conn is not None:
            conn.close()


class CrashTest(unittest.TestCase):
    def test_kill9_exactly_once(self):
        with tempdir() as tmp:
            data = pathlib.Path(tmp) / "data"
            svc = Service(data).start()
            for name, (bucket, size, interval) in STREAMS.items():
                st, doc, _ = svc.call("CreateDeliveryStream", {
                    "DeliveryStreamName": name,
                    "ExtendedS3DestinationConfiguration": s3_config(bucket, size=size, interval=interval)})
                self.assertEqual(st, 200, doc)
            port_ref = [svc.port]
            stop = threading.Event()
            clients = [Client(i, port_ref, stop) for i in range(CLIENTS)]
            for c in clients:
                c.start()
            rng = random.Random(7)
            try:
                for k in range(KILLS):
                    time.sleep(rng.uniform(0.3, 1.5))
                    svc.kill9()
                    time.sleep(rng.uniform(0.0, 0.2))
                    svc.start()
                    port_ref[0] = svc.port
                time.sleep(1.0)
            finally:
                stop.set()
                for c in clients:
                    c.join(30)
            drained = wait_for(lambda: all(svc.metric("buffered_records", s) == 0 for s in STREAMS), timeout=60)
            svc.stop()
            self.assertTrue(drained, "delivery did not drain")
            acked = set().union(*(c.acked for c in clients))
            sent = set().union(*(c.sent for c in clients))
            seen = {}
            for bucket, _, _ in STREAMS.values():
                for p in objects(data, bucket):
                    for line in p.read_text().splitlines(keepends=True):
                        seen[line] = seen.get(line, 0) + 1
            dups = [l for l, n in seen.items() if n > 1]
            missing = [l for l in acked if l not in seen]
            unknown = [l for l in seen if l not in sent]
            print(f"crash test: {KILLS} kills, {len(sent)} sent, {len(acked)} acknowledged, "
                  f"{len(seen)} in the raw store, {len(dups)} duplicated, {len(missing)} missing", file=sys.stderr)
            self.assertGreater(len(acked), 1000)
            self.assertEqual(dups[:5], [])
            self.assertEqual(missing[:5], [])
            self.assertEqual(unknown[:5], [])
            # A delivery redone after a crash reuses its temporary name: none is left behind.
            temps = [p for b, _, _ in STREAMS.values() for p in (data / "s3" / b).rglob(".*.tmp")]
            self.assertEqual(temps, [])
            # Delivered WAL segments are deleted: what is left is small.
            wal = list((data / "firehose" / "wal").glob("*.wal"))
            self.assertLessEqual(len(wal), KILLS + 3)


if __name__ == "__main__":
    unittest.main(verbosity=2)
