"""Hostile and careless connections to `orderlake firehose` (issue 16, defects 3 and 9, item 3):
slow bodies, slow heads (one trickling a byte every 5 s), idle keep-alive connections hold no
worker, so /health and a signed PutRecordBatch still answer within 1 s; a head that never ends
is closed after its total deadline; beyond --max-connections a new connection gets 503 with
Retry-After; two Content-Length headers get 400 and a close."""
import os
import pathlib
import socket
import sys
import threading
import time
import unittest

import boto3
from botocore.config import Config

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fh_common import Service, s3_config, tempdir  # noqa: E402

KEYS = ["--access-key", "AKIDTEST", "--secret-key", "secret"]


def client(svc):
    return boto3.client("firehose", endpoint_url=svc.url, region_name="us-east-1",
                        aws_access_key_id="AKIDTEST", aws_secret_access_key="secret",
                        config=Config(retries={"total_max_attempts": 1, "mode": "standard"},
                                      connect_timeout=2, read_timeout=5))


def connect(port, data=b""):
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    if data:
        s.sendall(data)
    return s


def read_response(s, timeout=5):
    """Everything the server sends until it closes (or the timeout)."""
    s.settimeout(timeout)
    out = b""
    deadline = time.time() + timeout
    try:
        while time.time() < deadline:
            chunk = s.recv(65536)
            if not chunk:
                break
            out += chunk
    except (socket.timeout, ConnectionResetError):
        pass
    return out


class FirehoseConnectionsTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempdir()
        self.data = pathlib.Path(self.tmp.name) / "data"
        self.svc = None
        self.socks = []

    def tearDown(self):
        for s in self.socks:
            s.close()
        if self.svc:
            self.svc.stop()
        self.tmp.cleanup()

    def start(self, extra=()):
        self.svc = Service(self.data, KEYS + list(extra)).start()
        self.fh = client(self.svc)
        self.fh.create_delivery_stream(DeliveryStreamName="orders",
                                       ExtendedS3DestinationConfiguration=s3_config("raw", interval=60))

    def assert_answers_quickly(self, what):
        t0 = time.time()
        status, body = self.svc.get("/health")
        self.assertEqual(status, 200, what)
        self.assertLess(time.time() - t0, 1.0, f"/health took {time.time() - t0:.2f} s with {what}")
        t0 = time.time()
        r = self.fh.put_record_batch(DeliveryStreamName="orders", Records=[{"Data": b"order\n"}] * 10)
        self.assertEqual(r["FailedPutCount"], 0)
        self.assertLess(time.time() - t0, 1.0, f"PutRecordBatch took {time.time() - t0:.2f} s with {what}")

    def metric(self, name):
        _, text = self.svc.get("/metrics")
        for line in text.splitlines():
            if line.startswith(name + " "):
                return float(line.split()[-1])
        return None

    def test_slow_bodies_and_slow_heads_hold_no_worker(self):
        self.start()
        port = self.svc.port
        # Defect 3: 64 bodies announced as 1 MB, 10 bytes sent.
        for _ in range(64):
            self.socks.append(connect(port, b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n\r\n0123456789"))
        # Defect 9: 70 heads that stop after the request line.
        for _ in range(70):
            self.socks.append(connect(port, b"POST / HTTP/1.1\r\n"))
        # ... and one that sends a byte every 5 s, which a per-read timeout never ends.
        trickle = connect(port, b"GET /health HTTP/1.1\r\n")
        stop = threading.Event()
        t0 = time.time()

        def drip():
            while not stop.wait(5):
                try:
                    trickle.send(b"X")
                except OSError:
                    return
        dripper = threading.Thread(target=drip)
        dripper.start()
        try:
            time.sleep(0.3)
            for _ in range(3):
                self.assert_answers_quickly("64 slow bodies and 71 slow heads open")
            # The head's deadline is total (10 s from its first byte), not per read.
            answer = read_response(trickle, timeout=20)
            self.assertTrue(answer.startswith(b"HTTP/1.1 408"), answer[:200])
            self.assertLess(time.time() - t0, 15)
        finally:
            stop.set()
            dripper.join()
            trickle.close()
        self.assertGreaterEqual(self.metric('orderlake_http_connections_rejected_total{reason="header_timeout"}'), 71)
        self.assert_answers_quickly("the slow heads closed")

    def test_idle_keep_alive_connections_do_not_stop_others(self):
        self.start(["--threads", "2"])
        for _ in range(100):
            s = connect(self.svc.port, b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
            self.assertIn(b"200 OK", s.recv(4096))
            self.socks.append(s)  # stays open, idle
        self.assert_answers_quickly("100 idle keep-alive connections and 2 workers")
        self.assertGreaterEqual(self.metric("orderlake_http_connections_open"), 100)

    def test_connection_cap_answers_503(self):
        self.start(["--max-connections", "8"])
        # Connections are taken one by one (boto3 may keep one of its own open) until refused.
        answer = b""
        for _ in range(9):
            s = connect(self.svc.port, b"GET /health HTTP/1.1\r\n\r\n")
            self.socks.append(s)
            answer = s.recv(4096)
            if not answer.startswith(b"HTTP/1.1 200"):
                break
        self.assertIn(len(self.socks), (8, 9), "the cap of 8 connections was not where it should be")
        answer += read_response(self.socks[-1], timeout=5)
        self.assertTrue(answer.startswith(b"HTTP/1.1 503 Service Unavailable"), answer[:200])
        self.assertIn(b"Retry-After: 1", answer)
        for s in self.socks:
            s.close()
        self.socks = []
        time.sleep(0.2)
        self.assertGreaterEqual(self.metric('orderlake_http_connections_rejected_total{reason="max_connections"}'), 1)
        self.assert_answers_quickly("the held connections closed")

    def test_two_content_lengths_are_refused(self):
        self.start()
        body = b'{"DeliveryStreamName":"orders","Records":[]}'
        s = connect(self.svc.port, b"POST / HTTP/1.1\r\nHost: x\r\nX-Amz-Target: Firehose_20150804.PutRecordBatch\r\n"
                    b"Content-Length: %d\r\nContent-Length: 5\r\n\r\n" % len(body) + body)
        self.socks.append(s)
        answer = read_response(s, timeout=5)  # ends because the server closes
        self.assertTrue(answer.startswith(b"HTTP/1.1 400"), answer[:200])
        self.assertIn(b"two Content-Length", answer)
        self.assertIn(b"Connection: close", answer)
        self.assertIn(b'"__type"', answer)


if __name__ == "__main__":
    unittest.main()
