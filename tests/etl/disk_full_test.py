"""A disk that fills mid-etl: the lake on a small tmpfs, a first run commits, a filler file
fills the disk, the next run (over more input than fits) fails with a message that names
the full disk and a non-zero exit, the table still answers with the first run's rows (no
half-written file or commit is visible), no staging or temporary file is left once the disk
has room, and a run after that takes the second input exactly once.
Needs root (mount); skipped otherwise. Run: ORDERLAKE_BINARY=build/orderlake python3 tests/etl/disk_full_test.py"""
import json
import os
import shutil
import subprocess
import tempfile
import unittest

BINARY = os.environ.get("ORDERLAKE_BINARY", "orderlake")


def run(*args, timeout=300):
    return subprocess.run([BINARY, "--log-level", "warn", *args], capture_output=True, text=True, timeout=timeout)


class EtlDiskFullTest(unittest.TestCase):
    def setUp(self):
        if os.geteuid() != 0:
            self.skipTest("needs root to mount a tmpfs")
        self.tmp = tempfile.mkdtemp(prefix="orderlake-etl-diskfull-")
        self.mnt = os.path.join(self.tmp, "mnt")
        os.makedirs(self.mnt)
        r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=24m", "tmpfs", self.mnt], capture_output=True)
        if r.returncode != 0:
            self.skipTest(f"cannot mount a tmpfs: {r.stderr.decode().strip()}")
        self.lake = os.path.join(self.mnt, "lake")
        self.input = os.path.join(self.tmp, "raw")

    def tearDown(self):
        if hasattr(self, "mnt"):
            subprocess.run(["umount", "-l", self.mnt], check=False)
        if hasattr(self, "tmp"):
            shutil.rmtree(self.tmp, ignore_errors=True)

    def generate(self, name, count, seed):
        r = run("generate", "--out", os.path.join(self.input, name), "--count", str(count), "--seed", str(seed),
                "--profile", "seed", "--malformed-rate", "0", "--progress-interval", "0")
        self.assertEqual(r.returncode, 0, r.stderr)

    def count(self):
        r = run("query", "--lake", self.lake, "--format", "json", "SELECT count(*) AS n FROM orders")
        self.assertEqual(r.returncode, 0, r.stderr)
        return json.loads(r.stdout)[0]["n"]

    def etl(self):
        return run("etl", "--input", self.input, "--lake", self.lake, "--no-progress", "--json")

    def test_full_disk_fails_the_run_and_rolls_back(self):
        self.generate("a", 2000, 1)
        r = self.etl()
        self.assertEqual(r.returncode, 0, r.stderr)
        first = self.count()
        self.assertGreater(first, 0)

        self.generate("b", 100000, 2)  # ~8 MB of Parquet: more than the disk has left
        filler = os.path.join(self.mnt, "filler")
        with open(filler, "wb") as f:
            f.truncate(0)
        free = shutil.disk_usage(self.mnt).free
        with open(filler, "wb") as f:
            f.write(b"\0" * max(0, free - (256 << 10)))  # leave 256 KiB: the run starts, then fails
        r = self.etl()
        self.assertNotEqual(r.returncode, 0, "a run that could not write its files must fail")
        self.assertRegex(r.stderr.lower(), r"no space|disk", r.stderr[-2000:])
        self.assertEqual(self.count(), first, "a failed run must not change what the table answers")

        os.unlink(filler)
        r = self.etl()
        self.assertEqual(r.returncode, 0, r.stderr)
        total = self.count()
        again = self.etl()
        self.assertEqual(again.returncode, 0, again.stderr)
        self.assertEqual(self.count(), total, "a second run after recovery takes nothing twice")
        staging = os.path.join(self.lake, "_orderlake", "orders", "staging")
        leftovers = [os.path.join(d, f) for d, _, fs in os.walk(self.lake) for f in fs
                     if f.endswith(".tmp") or d.startswith(staging)]
        self.assertEqual(leftovers, [], "temporary files left behind")
        # The same input on a disk with room gives the same table.
        self.lake = os.path.join(self.tmp, "reference-lake")
        r = self.etl()
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(total, self.count())


if __name__ == "__main__":
    unittest.main()
