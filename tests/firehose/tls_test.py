"""`orderlake firehose --tls-cert/--tls-key`: the Firehose API over HTTPS with a self-signed
certificate made here by the `openssl` command, with signature verification on, as the
clients that speak it in the field do: curl with --cacert and --aws-sigv4 sends a signed
PutRecordBatch (the shape of Fluent Bit's kinesis_firehose output, which always uses HTTPS);
boto3 (verify=<cert>) creates a stream and puts 2,000 records that are delivered; both AWS
CLIs (--ca-bundle) put a record; a client that does not trust the certificate is refused;
a plain http:// request to the TLS port gets a clean 400 and the server keeps serving.
`orderlake serve` (the dashboard) takes the same flags and is checked here too."""
import base64
import http.client
import json
import os
import pathlib
import re
import shutil
import socket
import ssl
import subprocess
import sys
import time
import unittest

import boto3
from botocore.config import Config
from botocore.exceptions import SSLError

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fh_common import BINARY, Service, objects, records, s3_config, tempdir, wait_for  # noqa: E402

KEY, SECRET = "AKIDTEST", "secret"
AWS_ENV = dict(os.environ, AWS_ACCESS_KEY_ID=KEY, AWS_SECRET_ACCESS_KEY=SECRET,
               AWS_DEFAULT_REGION="us-east-1", AWS_PAGER="")
for var in ("AWS_CA_BUNDLE", "AWS_ENDPOINT_URL", "AWS_PROFILE"):
    AWS_ENV.pop(var, None)


def make_certificate(directory):
    """A self-signed P-256 certificate for 127.0.0.1 and localhost: (cert.pem, key.pem)."""
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                    "-days", "2", "-subj", "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
                    "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True, timeout=60)
    return cert, key


def delivered_lines(data_dir, bucket):
    return b"".join(p.read_bytes() for p in objects(data_dir, bucket)).splitlines()


class FirehoseTlsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempdir()
        root = pathlib.Path(cls.tmp.name)
        cls.cert, cls.key = make_certificate(root)
        cls.data = root / "data"
        cls.svc = Service(cls.data, ["--access-key", KEY, "--secret-key", SECRET,
                                     "--tls-cert", str(cls.cert), "--tls-key", str(cls.key)]).start()
        cls.url = f"https://127.0.0.1:{cls.svc.port}"

    @classmethod
    def tearDownClass(cls):
        cls.svc.stop()
        cls.tmp.cleanup()

    def client(self, verify=None):
        return boto3.client("firehose", endpoint_url=self.url, region_name="us-east-1", verify=verify or str(self.cert),
                            aws_access_key_id=KEY, aws_secret_access_key=SECRET,
                            config=Config(retries={"total_max_attempts": 1, "mode": "standard"}))

    def https_get(self, path):
        ctx = ssl.create_default_context(cafile=str(self.cert))
        conn = http.client.HTTPSConnection("127.0.0.1", self.svc.port, context=ctx, timeout=10)
        conn.request("GET", path)
        r = conn.getresponse()
        body = r.read().decode()
        conn.close()
        return r.status, body

    def metric(self, line_start):
        _, text = self.https_get("/metrics")
        for line in text.splitlines():
            if line.startswith(line_start):
                return float(line.split()[-1])
        return None

    def create_stream(self, name, bucket):
        self.client().create_delivery_stream(DeliveryStreamName=name,
                                             ExtendedS3DestinationConfiguration=s3_config(bucket, size=1, interval=1))

    def test_health_over_https(self):
        status, body = self.https_get("/health")
        self.assertEqual((status, json.loads(body)["status"]), (200, "ok"))

    def test_banner_and_bad_options(self):
        root = pathlib.Path(self.tmp.name)
        base = [BINARY, "firehose", "--listen", "127.0.0.1:0", "--data-dir", str(root / "other")]
        proc = subprocess.Popen(base + ["--tls-cert", str(self.cert), "--tls-key", str(self.key)],
                                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        try:
            self.assertRegex(proc.stdout.readline().decode(), r"^listening on https://127\.0\.0\.1:\d+$")
        finally:
            proc.terminate()
            proc.wait(20)
            proc.stdout.close()
        p = subprocess.run(base + ["--tls-cert", str(self.cert)], capture_output=True, text=True, timeout=30)
        self.assertEqual(p.returncode, 2)
        self.assertIn("--tls-cert and --tls-key go together", p.stderr)
        p = subprocess.run(base + ["--tls-cert", str(self.key), "--tls-key", str(self.key)],
                           capture_output=True, text=True, timeout=30)
        self.assertEqual(p.returncode, 1)
        self.assertIn(f"--tls-cert {self.key}", p.stderr)

    def test_curl_signed_put_record_batch(self):
        """Fluent Bit's client shape: a SigV4-signed PutRecordBatch over HTTPS, the CA given."""
        self.create_stream("curl-orders", "curlbucket")
        lines = [f"curl line {i}".encode() for i in range(50)]
        body = json.dumps({"DeliveryStreamName": "curl-orders", "Records": records(l + b"\n" for l in lines)})
        p = subprocess.run(["curl", "-sS", "--fail-with-body", "--cacert", str(self.cert),
                            "--aws-sigv4", "aws:amz:us-east-1:firehose", "--user", f"{KEY}:{SECRET}",
                            "-H", "Content-Type: application/x-amz-json-1.1",
                            "-H", "X-Amz-Target: Firehose_20150804.PutRecordBatch",
                            "--data-binary", "@-", self.url + "/"],
                           input=body.encode(), capture_output=True, timeout=60)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        answer = json.loads(p.stdout)
        self.assertEqual(answer["FailedPutCount"], 0)
        self.assertEqual(len(answer["RequestResponses"]), 50)
        got = wait_for(lambda: len(delivered_lines(self.data, "curlbucket")) >= 50 and delivered_lines(self.data, "curlbucket"))
        self.assertEqual(sorted(got), sorted(lines))
        # A wrong secret is still refused over TLS.
        p = subprocess.run(["curl", "-sS", "--cacert", str(self.cert), "--aws-sigv4", "aws:amz:us-east-1:firehose",
                            "--user", f"{KEY}:wrong", "-H", "Content-Type: application/x-amz-json-1.1",
                            "-H", "X-Amz-Target: Firehose_20150804.PutRecordBatch", "-o", "/dev/null",
                            "-w", "%{http_code}", "--data-binary", "@-", self.url + "/"],
                           input=body.encode(), capture_output=True, timeout=60)
        self.assertEqual(p.stdout.decode(), "403", p.stderr)  # InvalidSignatureException

    def test_boto3_2000_records_delivered(self):
        self.create_stream("boto-orders", "botobucket")
        c = self.client()
        lines = [f"{i},order,{'x' * (i % 50)}".encode() for i in range(2000)]
        for start in range(0, 2000, 500):  # PutRecordBatch takes 500 records at most
            r = c.put_record_batch(DeliveryStreamName="boto-orders",
                                   Records=[{"Data": l + b"\n"} for l in lines[start:start + 500]])
            self.assertEqual(r["FailedPutCount"], 0)
        got = wait_for(lambda: len(delivered_lines(self.data, "botobucket")) >= 2000
                       and delivered_lines(self.data, "botobucket"), timeout=30)
        self.assertEqual(sorted(got or []), sorted(lines))

    def test_untrusted_certificate_is_refused(self):
        """Without the CA the client refuses the server: the certificate is really checked."""
        with self.assertRaises(SSLError):
            self.client(verify=True).list_delivery_streams()
        p = subprocess.run(["curl", "-sS", self.url + "/health"], capture_output=True, timeout=30)
        self.assertEqual(p.returncode, 60, p.stderr)  # curl: peer certificate cannot be authenticated

    def test_aws_cli_put_record_with_ca_bundle(self):
        self.create_stream("cli-orders", "clibucket")
        clis = [c for c in (shutil.which("aws"), "/usr/bin/aws") if c and os.path.exists(c)]
        self.assertTrue(clis, "the AWS CLI is needed")
        sent = []
        for n, aws in enumerate(dict.fromkeys(clis)):
            line = f"cli {n} 536365,85123A,WHITE HANGING HEART T-LIGHT HOLDER,6".encode()
            version = subprocess.run([aws, "--version"], capture_output=True, text=True, timeout=60)
            if (version.stdout + version.stderr).startswith("aws-cli/1."):  # v1 base64-encodes blobs itself
                record = ["--record", json.dumps({"Data": (line + b"\n").decode()})]
            else:
                record = ["--cli-binary-format", "base64",
                          "--record", json.dumps({"Data": base64.b64encode(line + b"\n").decode()})]
            p = subprocess.run([aws, "--endpoint-url", self.url, "--ca-bundle", str(self.cert), "--output", "json",
                                "firehose", "put-record", "--delivery-stream-name", "cli-orders", *record],
                               env=AWS_ENV, capture_output=True, text=True, timeout=120)
            self.assertEqual(p.returncode, 0, f"{aws}: {p.stderr}")
            self.assertTrue(json.loads(p.stdout)["RecordId"])
            sent.append(line)
        got = wait_for(lambda: len(delivered_lines(self.data, "clibucket")) >= len(sent)
                       and delivered_lines(self.data, "clibucket"))
        self.assertEqual(sorted(got or []), sorted(sent))

    def test_serve_dashboard_over_https(self):
        """`orderlake serve` takes the same flags: page, API and /metrics over HTTPS, https:// printed."""
        lake = pathlib.Path(self.tmp.name) / "lake"
        lake.mkdir(exist_ok=True)
        proc = subprocess.Popen([BINARY, "serve", "--lake", str(lake), "--listen", "127.0.0.1:0",
                                 "--tls-cert", str(self.cert), "--tls-key", str(self.key)],
                                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        try:
            line = proc.stdout.readline().decode()
            m = re.search(r"dashboard at https://127\.0\.0\.1:(\d+)/", line)
            self.assertTrue(m, line)
            ctx = ssl.create_default_context(cafile=str(self.cert))
            for path in ("/health", "/metrics", "/"):
                conn = http.client.HTTPSConnection("127.0.0.1", int(m.group(1)), context=ctx, timeout=10)
                conn.request("GET", path)
                r = conn.getresponse()
                r.read()
                conn.close()
                self.assertEqual(r.status, 200, path)
        finally:
            proc.terminate()
            proc.wait(30)
            proc.stdout.close()

    def test_plain_http_to_the_tls_port_fails_cleanly(self):
        before = self.metric('orderlake_http_connections_rejected_total{reason="bad_request"}')
        conn = http.client.HTTPConnection("127.0.0.1", self.svc.port, timeout=10)
        conn.request("POST", "/", body=b"{}", headers={"X-Amz-Target": "Firehose_20150804.ListDeliveryStreams",
                                                     "Content-Type": "application/x-amz-json-1.1"})
        r = conn.getresponse()
        body = r.read().decode()
        conn.close()
        self.assertEqual(r.status, 400)
        self.assertIn("speaks HTTPS", body)
        self.assertEqual(self.metric('orderlake_http_connections_rejected_total{reason="bad_request"}'), before + 1)
        # A client whose handshake fails is counted, and the server goes on.
        failed = self.metric('orderlake_http_connections_rejected_total{reason="tls_handshake"}')
        with socket.create_connection(("127.0.0.1", self.svc.port), timeout=10) as s:
            s.sendall(b"\x16\x03\x01\x00\x05hello")
            s.settimeout(5)
            while s.recv(4096):
                pass
        self.assertEqual(self.metric('orderlake_http_connections_rejected_total{reason="tls_handshake"}'), failed + 1)
        status, _ = self.https_get("/health")
        self.assertEqual(status, 200)


if __name__ == "__main__":
    unittest.main(verbosity=2)
