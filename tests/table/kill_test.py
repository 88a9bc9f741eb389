"""kill -9 under load (issue 7): `orderlake etl --follow` is killed at random moments while
raw objects keep landing (moved into its input one by one, as Firehose delivers them) and a
compactor runs beside it; it is restarted each time. At the end the table, read back with the
independent Delta reader (delta_protocol.py) and through `orderlake query`, holds every valid
generated line exactly once: the generator's summaries give the expected rows in total, per
Country and per date. The random seed is printed so a failure can be replayed
(ORDERLAKE_KILL_SEED).
Run: ORDERLAKE_BINARY=build/orderlake python3 tests/table/kill_test.py"""
import glob
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import unittest
from collections import Counter

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import delta_protocol as dp  # noqa: E402

BINARY = os.environ.get("ORDERLAKE_BINARY", "")


def run(*args, timeout=300):
    p = subprocess.run([BINARY, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=timeout)
    if p.returncode != 0:
        raise AssertionError(f"orderlake {' '.join(args)} exited {p.returncode}:\n{p.stderr[-3000:]}")
    return p


class KillTest(unittest.TestCase):
    def setUp(self):
        if not BINARY or not os.path.exists(BINARY):
            raise AssertionError("ORDERLAKE_BINARY is not set to the orderlake binary")
        self.tmp = tempfile.mkdtemp(prefix="orderlake-kill-")
        self.seed = int(os.environ.get("ORDERLAKE_KILL_SEED", random.randrange(1 << 30)))
        print(f"kill test seed {self.seed} in {self.tmp}", file=sys.stderr)
        self.rng = random.Random(self.seed)

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def test_etl_killed_at_random_moments_keeps_every_row_once(self):
        staging, inbox, lake = (os.path.join(self.tmp, d) for d in ("staging", "in", "lake"))
        os.makedirs(inbox)
        expected_total, by_country, by_date = 0, Counter(), Counter()
        # 24 generated objects over 5 days, some late (earlier days after later ones).
        for i in range(24):
            out = os.path.join(staging, str(i))
            summary = os.path.join(self.tmp, f"s{i}.json")
            day = ["2010-12-03", "2010-12-04", "2010-12-01", "2010-12-05", "2010-12-02"][i % 5]
            run("generate", "--out", out, "--count", str(self.rng.randrange(3000, 12000)), "--seed", str(1000 + i),
                "--start", day, "--days", "1", "--summary", summary, "--progress-interval", "0")
            with open(summary) as f:
                exp = json.load(f)["expected"]
            expected_total += exp["rows"]
            for c, v in exp["by_country"].items():
                by_country[c] += v["rows"]
            for d, v in exp["by_date"].items():
                by_date[d] += v["rows"]
        objects = sorted(glob.glob(os.path.join(staging, "*", "*")))

        stop = threading.Event()

        def feed():  # complete objects land one by one, as Firehose delivers them
            for n, src in enumerate(objects):
                if stop.is_set():
                    return
                os.rename(src, os.path.join(inbox, f"obj-{n:03d}.log"))
                time.sleep(self.rng.uniform(0.02, 0.15))

        feeder = threading.Thread(target=feed)
        feeder.start()
        compactor = subprocess.Popen([BINARY, "compact", "--lake", lake, "--every", "0.3", "--min-files", "3",
                                      "--retention-minutes", "0.05"], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE)
        kills = 0
        etl_log = open(os.path.join(self.tmp, "etl.log"), "w")
        try:
            deadline = time.time() + 120
            while (feeder.is_alive() or kills < 6) and time.time() < deadline:
                etl = subprocess.Popen([BINARY, "etl", "--follow", "--interval-ms", "20", "--threads", "2",
                                        "--compact-every", "0",
                                        "--memory-mb", "16", "--input", inbox, "--lake", lake],
                                       stdout=subprocess.DEVNULL, stderr=etl_log)
                time.sleep(self.rng.uniform(0.05, 0.6))
                etl.send_signal(signal.SIGKILL)
                etl.wait(30)
                kills += 1
            self.assertGreaterEqual(kills, 6)
        finally:
            etl_log.close()
            stop.set()
            feeder.join()
            compactor.send_signal(signal.SIGTERM)
            _, err = compactor.communicate(timeout=60)
        self.assertEqual(compactor.returncode, 0, err[-2000:])
        with open(os.path.join(self.tmp, "etl.log")) as f:
            text = f.read()
        print(f"{kills} kills, {text.count('stopped before its commit')} runs rolled back, "
              f"{text.count('etl run ')} runs committed", file=sys.stderr)
        # Whatever is left: one last run, not killed.
        final = run("etl", "--input", inbox, "--lake", lake, "--json")
        self.assertEqual(json.loads(final.stdout)["objects_changed"], 0)

        snap, violations = dp.validate(os.path.join(lake, "orders"))
        self.assertEqual(violations, [], "\n".join(str(v) for v in violations[:30]))
        self.assertEqual(snap.num_records, expected_total,
                         f"seed {self.seed}: the snapshot's rows differ from the generator's ({kills} kills)")
        q = run("query", "--lake", lake, "--format", "json",
                "SELECT Country, strftime(InvoiceDateOnly, '%Y-%m-%d') AS d, count(*) AS n FROM orders GROUP BY ALL")
        got_country, got_date = Counter(), Counter()
        for row in json.loads(q.stdout):
            got_country[row["Country"]] += row["n"]
            got_date[row["d"]] += row["n"]
        self.assertEqual(dict(got_country), dict(by_country), f"seed {self.seed}")
        self.assertEqual(dict(got_date), dict(by_date), f"seed {self.seed}")
        # No data file outside the snapshot except removed ones not yet vacuumed.
        on_disk = set(dp.data_files_on_disk(os.path.join(lake, "orders")))
        allowed = set(snap.file_paths()) | {key[0] for key in snap.tombstones}
        self.assertEqual(sorted(p for p in on_disk if p not in allowed), [], f"seed {self.seed}: orphan files")


if __name__ == "__main__":
    unittest.main()
