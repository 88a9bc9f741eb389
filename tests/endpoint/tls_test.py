"""HTTPS on every listener of `orderlake aws` and `orderlake up` (--tls-cert/--tls-key).

A self-signed certificate made here with the `openssl` command. `orderlake aws` answers
botocore (verify=the certificate) over HTTPS and nothing over plain HTTP; `orderlake up`
with the certificate runs end to end (its agent reaches its firehose over HTTPS, trusting
the certificate) and its dashboard and AWS endpoint speak HTTPS; `etl --follow` serves its
--metrics-listen over HTTPS.
"""
import os
import pathlib
import shutil
import signal
import subprocess
import tempfile
import time
import unittest

import botocore.session
from botocore.config import Config

BINARY = os.environ.get("ORDERLAKE_BINARY", "orderlake")


def make_certificate(directory):
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                    "-days", "2", "-subj", "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
                    "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True, timeout=60)
    return cert, key


def client(service, url, cert):
    return botocore.session.get_session().create_client(
        service, region_name="us-east-1", endpoint_url=url, aws_access_key_id="AKIDEXAMPLE",
        aws_secret_access_key="secret", verify=str(cert), config=Config(retries={"max_attempts": 1}))


def curl(url, cert, *extra):
    return subprocess.run(["curl", "-s", "--max-time", "10", "--cacert", str(cert), *extra, url], capture_output=True,
                          text=True, timeout=30)


class TlsTest(unittest.TestCase):
    def setUp(self):
        self.tmp = pathlib.Path(tempfile.mkdtemp(prefix="edge-tls-"))
        self.cert, self.key = make_certificate(self.tmp)
        self.procs = []

    def tearDown(self):
        for p in self.procs:
            if p.poll() is None:
                p.send_signal(signal.SIGINT)
                try:
                    p.wait(60)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def spawn(self, *args):
        p = subprocess.Popen([BINARY, *args], stdout=subprocess.PIPE, stderr=open(self.tmp / f"p{len(self.procs)}.err", "wb"))
        self.procs.append(p)
        return p

    def test_aws_endpoint_speaks_https_only(self):
        p = self.spawn("aws", "--data-dir", str(self.tmp / "data"), "--listen", "127.0.0.1:0", "--tls-cert",
                       str(self.cert), "--tls-key", str(self.key))
        line = p.stdout.readline().decode()
        self.assertTrue(line.startswith("AWS endpoint at https://127.0.0.1:"), line)
        url = line.split(" at ", 1)[1].strip()
        fh = client("firehose", url, self.cert)
        self.assertEqual(fh.list_delivery_streams()["DeliveryStreamNames"], [])
        self.assertIn("WorkGroups", client("athena", url, self.cert).list_work_groups())
        # Plain HTTP on the TLS port is refused; the server keeps serving.
        r = curl(url.replace("https://", "http://") + "/", self.cert, "-X", "POST", "-H",
                 "X-Amz-Target: Firehose_20150804.ListDeliveryStreams", "-d", "{}", "-w", "%{http_code}")
        self.assertTrue(r.stdout.endswith("400"), r.stdout)
        self.assertIn("https", r.stdout)
        # A client that does not trust the certificate gets no answer.
        r = subprocess.run(["curl", "-s", "--max-time", "10", url + "/"], capture_output=True, timeout=30)
        self.assertNotEqual(r.returncode, 0)
        self.assertEqual(fh.list_delivery_streams()["DeliveryStreamNames"], [])

    def test_up_runs_end_to_end_over_https(self):
        logs = self.tmp / "logs"
        subprocess.run([BINARY, "generate", "--out", str(logs), "--count", "500", "--seed", "5"], check=True,
                       capture_output=True, timeout=60)
        env_ca = os.environ.pop("AWS_CA_BUNDLE", None)
        try:
            p = self.spawn("up", "--data-dir", str(self.tmp / "up"), "--logs", str(logs), "--port", "0",
                           "--aws-port", "0", "--status-interval", "0", "--tls-cert", str(self.cert), "--tls-key",
                           str(self.key))
        finally:
            if env_ca is not None:
                os.environ["AWS_CA_BUNDLE"] = env_ca
        banner = ""
        deadline = time.time() + 60
        while time.time() < deadline and "-> etl ->" not in banner:
            banner += p.stdout.readline().decode()
        self.assertIn("dashboard at https://127.0.0.1:", banner)
        self.assertIn("firehose https://127.0.0.1:", banner)
        dash = banner.split("dashboard at ", 1)[1].split()[0]
        aws_url = banner.split("AWS endpoint at ", 1)[1].split()[0]
        self.assertTrue(aws_url.startswith("https://"), banner)
        # The agent ships every line over HTTPS: the table fills.
        rows = 0
        deadline = time.time() + 60
        while time.time() < deadline and rows < 400:
            q = subprocess.run([BINARY, "query", "--lake", str(self.tmp / "up" / "lake"), "--format", "csv",
                                "SELECT count(*) FROM orders"], capture_output=True, text=True, timeout=60)
            rows = int(q.stdout.splitlines()[1]) if q.returncode == 0 else 0
            time.sleep(0.5)
        self.assertGreaterEqual(rows, 400, (self.tmp / "p0.err").read_text()[-3000:])
        r = curl(dash.split("?")[0] + "health", self.cert)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn('"status":"up"', r.stdout.replace(" ", ""))
        fh = client("firehose", aws_url, self.cert)
        self.assertIn("tbsm-red-fire", fh.list_delivery_streams()["DeliveryStreamNames"])

    def test_metrics_listener_of_etl_follow_speaks_https(self):
        (self.tmp / "in").mkdir()
        p = self.spawn("etl", "--input", str(self.tmp / "in"), "--lake", str(self.tmp / "lake"), "--follow",
                       "--metrics-listen", "127.0.0.1:0", "--tls-cert", str(self.cert), "--tls-key", str(self.key))
        err = self.tmp / "p0.err"
        deadline = time.time() + 30
        while time.time() < deadline and "metrics on" not in err.read_text():
            time.sleep(0.1)
        text = err.read_text()
        self.assertIn("metrics on https://127.0.0.1:", text)
        url = text.split("metrics on ", 1)[1].split()[0].rstrip(",")
        r = curl(url, self.cert)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("orderlake_etl_", r.stdout)
        bad = subprocess.run([BINARY, "etl", "--input", str(self.tmp / "in"), "--lake", str(self.tmp / "lake2"),
                              "--follow", "--metrics-listen", "127.0.0.1:0", "--tls-cert", str(self.cert)],
                             capture_output=True, text=True, timeout=30)
        self.assertNotEqual(bad.returncode, 0)
        self.assertIn("--tls-key", bad.stderr)


if __name__ == "__main__":
    unittest.main(verbosity=2)
