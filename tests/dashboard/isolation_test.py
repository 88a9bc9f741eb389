"""The SQL console is isolated from the visuals and bounded (issue 16, defects 2 and 8),
against the real `orderlake serve`: while three endless statements run on the console, an
uncached visual still answers at once; a statement DuckDB cannot interrupt (one long
repeat()) is stopped at the timeout and leaves the server small; memory-hungry statements are
stopped with a message naming the bound; a client's 4th statement at once gets 429."""
import os
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dash_common import Server, build_lake, remove, tempdir  # noqa: E402

TIMEOUT = 5        # --sql-timeout
MEMORY_MB = 512    # --sql-memory-mb
SERVER_RSS_MB = 300  # the server's own peak stays under this, whatever the console runs
ENDLESS = "SELECT count(*) FROM range({})"


class ConsoleIsolationTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempdir("isolation")
        cls.lake = build_lake(cls.tmp)
        cls.server = Server(cls.lake, ["--sql-timeout", str(TIMEOUT), "--sql-memory-mb", str(MEMORY_MB),
                                       "--sql-result-mb", "1"])

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()
        remove(cls.tmp)

    def timed_sql(self, statement):
        t0 = time.monotonic()
        status, _, body = self.server.sql(statement, timeout=TIMEOUT + 30)
        return status, body, time.monotonic() - t0

    def test_visuals_answer_while_the_console_is_busy(self):
        results = []
        threads = [threading.Thread(target=lambda i=i: results.append(self.timed_sql(ENDLESS.format(10**13 + i))))
                   for i in range(3)]
        for t in threads:
            t.start()
        time.sleep(1.0)  # the three are running
        status, hdrs, body = self.server.sql("SELECT 1")
        self.assertEqual(status, 429, body)
        self.assertEqual(hdrs.get("Retry-After"), "1")
        self.assertRegex(body["error"], r"at most 3 run at a time \(--sql-per-client\)")
        for country in ("France", "Germany"):  # filters not asked before: computed now
            t0 = time.monotonic()
            status, _, body = self.server.request("GET", f"/api/summary?country={country}", timeout=30)
            took = time.monotonic() - t0
            self.assertEqual(status, 200, body)
            self.assertLess(took, 2.0, f"/api/summary?country={country} took {took:.1f} s while the console was busy")
        for t in threads:
            t.join(TIMEOUT + 30)
        self.assertEqual(len(results), 3)
        for status, body, took in results:
            self.assertEqual(status, 400, body)
            self.assertRegex(body["error"], rf"ran longer than {TIMEOUT} s and was stopped")
            self.assertLess(took, TIMEOUT + 2)
        status, _, body = self.server.sql("SELECT count(*) AS n FROM orders")  # free again
        self.assertEqual(status, 200, body)

    def test_uninterruptible_and_memory_hungry_statements_are_stopped(self):
        cases = [
            "SELECT length(repeat('x', 2000000000))",
            "SELECT length(string_agg(repeat('y', 1000), ',')) FROM range(3000000)",
            "SELECT length(string_agg(a::VARCHAR || repeat('z', 100), ',')) FROM range(20000) a, range(2000) b",
        ]
        for statement in cases:
            status, body, took = self.timed_sql(statement)
            self.assertEqual(status, 400, (statement, body))
            self.assertRegex(body["error"], rf"used more than {MEMORY_MB} MB and was stopped|"
                                            rf"ran longer than {TIMEOUT} s and was stopped", statement)
            self.assertLess(took, TIMEOUT + 2, statement)
        peak = self.server.rss_mb()
        self.assertLess(peak, SERVER_RSS_MB, f"the server's peak RSS is {peak:.0f} MB")
        status, _, body = self.server.sql("SELECT count(*) AS n FROM orders")
        self.assertEqual(status, 200, body)

    def test_results_are_bounded(self):
        status, _, body = self.server.sql("SELECT * FROM range(50)")
        self.assertEqual(status, 200, body)
        self.assertEqual(body["rows_returned"], 50)
        status, _, body = self.server.sql("SELECT * FROM range(100000)")
        self.assertEqual(status, 200)
        self.assertTrue(body["truncated"])
        self.assertEqual(len(body["rows"]), 10000)
        # CSV: at most --sql-result-mb (1 MB) of rows, cut at a row, marked truncated.
        status, hdrs, text = self.server.request("POST", "/api/sql?format=csv", "SELECT repeat('x', 100) AS s FROM range(100000)",
                                                 headers={"Content-Type": "text/plain"})
        self.assertEqual(status, 200)
        self.assertRegex(hdrs.get("X-Orderlake-Truncated", ""), r"^first \d+ rows$")
        self.assertLess(len(text), (1 << 20) + 70 * 1024)
        self.assertGreater(len(text), 1 << 19)
        lines = text.split("\r\n") if "\r\n" in text else text.split("\n")
        self.assertEqual(lines[0], "s")
        self.assertTrue(all(line == "x" * 100 for line in lines[1:] if line))


if __name__ == "__main__":
    unittest.main()
