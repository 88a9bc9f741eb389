"""A full disk: `orderlake firehose` on a small tmpfs that a filler file fills to the last
byte. Puts fail with ServiceUnavailableException (nothing is acknowledged that is not on
disk), the service stays up, and once the filler is gone the same puts succeed again
without a restart; every acknowledged record is delivered exactly once, and a batch with
an X-Orderlake-Batch token retried across the outage is stored once.
Needs root (mount); skipped otherwise. Run: ORDERLAKE_BINARY=build/orderlake python3 tests/firehose/disk_full_test.py"""
import collections
import os
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fh_common import Service, objects, records, s3_config, wait_for  # noqa: E402


def fill(path):
    with open(path, "wb") as f:
        try:
            while True:
                f.write(b"\0" * (1 << 20))
                f.flush()
        except OSError:
            pass
    # a last few bytes: the filesystem is now full to the block
    try:
        with open(path, "ab") as f:
            while True:
                f.write(b"\0" * 512)
                f.flush()
    except OSError:
        pass


class DiskFullTest(unittest.TestCase):
    def setUp(self):
        if os.geteuid() != 0:
            self.skipTest("needs root to mount a tmpfs")
        self.tmp = tempfile.mkdtemp(prefix="orderlake-diskfull-")
        self.mnt = os.path.join(self.tmp, "mnt")
        os.makedirs(self.mnt)
        r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", self.mnt], capture_output=True)
        if r.returncode != 0:
            self.skipTest(f"cannot mount a tmpfs: {r.stderr.decode().strip()}")
        self.svc = Service(os.path.join(self.mnt, "data")).start()

    def tearDown(self):
        if hasattr(self, "svc"):
            self.svc.stop()
        if hasattr(self, "mnt"):
            subprocess.run(["umount", "-l", self.mnt], check=False)

    def put(self, recs, token=None):
        headers = {"X-Orderlake-Batch": token} if token else None
        st, doc, _ = self.svc.call("PutRecordBatch", {"DeliveryStreamName": "s", "Records": records(recs)},
                                   headers=headers)
        return st, doc

    def test_puts_fail_while_full_and_succeed_after(self):
        st, doc, _ = self.svc.call("CreateDeliveryStream", {
            "DeliveryStreamName": "s", "ExtendedS3DestinationConfiguration": s3_config("b", 1, 1)})
        self.assertEqual(st, 200, doc)
        acked = []
        before = [f"before-{i:05d}\n".encode() for i in range(200)]
        self.assertEqual(self.put(before)[0], 200)
        acked += before

        filler = os.path.join(self.mnt, "filler")
        fill(filler)
        big = [("x" * 900 + f"-{i:05d}\n").encode() for i in range(500)]  # ~450 KB: cannot fit
        st, doc = self.put(big, token="src-1;0;1000")
        self.assertEqual(st, 503, doc)
        self.assertEqual(doc.get("__type"), "ServiceUnavailableException", doc)
        status, _ = self.svc.get("/health")
        self.assertEqual(status, 200, "the service stays up while the disk is full")

        os.unlink(filler)
        # The same batch (same token) is accepted once the disk has room, without a restart,
        # and stored once even though its first attempt reached the log's queue.
        st, doc = wait_for(lambda: (lambda r: r if r[0] == 200 else None)(self.put(big, token="src-1;0;1000")),
                           timeout=20, step=0.3) or self.put(big, token="src-1;0;1000")
        self.assertEqual(st, 200, doc)
        self.assertEqual(doc["FailedPutCount"], 0)
        acked += big
        after = [f"after-{i:05d}\n".encode() for i in range(200)]
        self.assertEqual(self.put(after)[0], 200)
        acked += after

        def delivered():
            out = []
            for p in objects(self.svc.data_dir, "b"):
                out += p.read_bytes().splitlines(keepends=True)
            return out
        wait_for(lambda: len(set(delivered())) >= len(acked), timeout=30, step=0.2)
        got = collections.Counter(delivered())
        missing = [r for r in acked if got[r] == 0]
        twice = [r for r, n in got.items() if n > 1]
        self.assertEqual(missing, [], "acknowledged records missing after the disk was freed")
        self.assertEqual(twice, [], "records stored twice")


if __name__ == "__main__":
    unittest.main()
