"""The SQL console cannot read outside the lake through a symbolic link inside it (issue 16,
defect 6), and statements nested far too deep get an error, not a crash (defect 7), against
the real `orderlake serve`; the visuals and the sample queries still answer meanwhile."""
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dash_common import Server, build_lake, remove, tempdir  # noqa: E402


class ConsoleConfinementTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempdir("confinement")
        cls.lake = os.path.realpath(build_lake(cls.tmp))
        os.symlink("/etc", os.path.join(cls.lake, "evil"))
        os.makedirs(os.path.join(cls.lake, "misc"))
        os.symlink("/etc/passwd", os.path.join(cls.lake, "misc", "passwd.csv"))
        cls.server = Server(cls.lake, ["--sql-timeout", "20"])

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()
        remove(cls.tmp)

    def test_links_out_of_the_lake_are_not_followed(self):
        lake = self.lake
        reads = [
            f"SELECT content FROM read_text('{lake}/evil/passwd')",
            f"SELECT * FROM read_csv('{lake}/evil/passwd', header = false)",
            f"SELECT * FROM read_csv_auto('{lake}/misc/passwd.csv', header = false)",
            f"SELECT * FROM read_parquet('{lake}/evil/*.parquet')",
            f"SELECT * FROM glob('{lake}/evil/*')",
            f"SELECT * FROM glob('{lake}/*/passwd')",
            f"SELECT content FROM read_text('{lake}/ev' || 'il/passwd')",
        ]
        for statement in reads:
            status, _, body = self.server.sql(statement)
            self.assertEqual(status, 400, (statement, body))
            self.assertIn("Permission Error", body["error"], statement)
            self.assertIn(f"{lake}/evil -> /etc", body["error"], statement)
            self.assertNotIn("root:", str(body), statement)

    def test_visuals_and_samples_still_answer(self):
        for path in ("/api/summary", "/api/summary?country=France", "/api/daily", "/api/top-orders?limit=5"):
            status, _, body = self.server.request("GET", path)
            self.assertEqual(status, 200, (path, body))
        status, _, samples = self.server.request("GET", "/api/samples")
        self.assertEqual(status, 200)
        self.assertGreaterEqual(len(samples), 6)
        for s in samples:
            status, _, body = self.server.sql(s["sql"])
            self.assertEqual(status, 200, (s["title"], body))

    def test_deep_nesting_is_an_error(self):
        n = 10000
        cases = [
            ("SELECT " + "(" * n + "1" + ")" * n, "Parser Error"),
            ("SELECT " + "1 + " * n + "1", "expression depth"),
            ("SELECT " + "abs(" * n + "1" + ")" * n, "Error"),
            ("CREATE EXTERNAL TABLE t (a " + "array<" * n + "int" + ">" * n + ") LOCATION '/tmp'", "nested more than 100 levels deep"),
        ]
        for statement, error in cases:
            status, _, body = self.server.sql(statement)
            self.assertEqual(status, 400, statement[:40])
            self.assertIn(error, body["error"][:2000], statement[:40])
        status, _, body = self.server.sql("SELECT count(*) FROM orders")
        self.assertEqual(status, 200, body)


if __name__ == "__main__":
    unittest.main()
