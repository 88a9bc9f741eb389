"""The S3 REST API of `orderlake aws` driven by real clients: the AWS CLI v1 (pip) and v2
(Debian), boto3, urllib and raw HTTP. Buckets are the data dir's: a raw bucket with
Firehose-layout objects made before start, the read-only lake, the Athena results bucket."""
import hashlib
import http.client
import os
import pathlib
import shutil
import signal
import subprocess
import tempfile
import time
import unittest
import urllib.error
import urllib.request

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

BINARY = os.environ.get("ORDERLAKE_BINARY", "orderlake")
RAW = "orderlake-raw"
RESULTS = "orderlake-athena-results"
LAKE = "orderlake-lake"
RAW_KEYS = [f"2026/12/07/{h:02d}/orders-stream-1-2026-12-07-{h:02d}-{m:02d}-00-{h}{m}.gz"
            for h in (12, 13) for m in (0, 15, 30, 45)] + ["2026/12/07/top.json"]


def cli_binaries():
    out = []
    v1 = shutil.which("aws")
    if v1 and not v1.startswith("/usr/bin"):
        out.append(("v1", v1))
    if os.path.exists("/usr/bin/aws"):
        out.append(("v2", "/usr/bin/aws"))
    return out


class Endpoint:
    """One `orderlake aws` process on a free loopback port."""

    def __init__(self, data_dir, extra=()):
        self.data_dir = pathlib.Path(data_dir)
        log = open(self.data_dir.parent / f"aws-{os.getpid()}-{time.time_ns()}.log", "ab")
        self.proc = subprocess.Popen([BINARY, "aws", "--no-firehose", "--data-dir", str(self.data_dir),
                                      "--listen", "127.0.0.1:0", *extra], stdout=subprocess.PIPE, stderr=log)
        log.close()
        line = self.proc.stdout.readline().decode().strip()
        if not line.startswith("AWS endpoint at "):
            self.proc.kill()
            raise RuntimeError(f"orderlake aws did not start: {line!r}")
        self.url = line.rsplit(" ", 1)[1]
        self.port = int(self.url.rsplit(":", 1)[1])

    def rss_kb(self):
        with open(f"/proc/{self.proc.pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        return 0

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc.stdout.close()

    def raw(self, method, target, headers=None, body=None):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        conn.request(method, target, body=body, headers=headers or {})
        r = conn.getresponse()
        data = r.read()
        conn.close()
        return r.status, data, dict(r.getheaders())


def s3client(ep, key="AKIDTEST", secret="secret"):
    return boto3.client("s3", endpoint_url=ep.url, region_name="us-east-1", aws_access_key_id=key,
                        aws_secret_access_key=secret,
                        config=Config(retries={"total_max_attempts": 1}, s3={"addressing_style": "path"}))


def code_of(fn):
    try:
        fn()
    except ClientError as e:
        return e.response["Error"]["Code"], e.response["ResponseMetadata"]["HTTPStatusCode"]
    return None


def make_data_dir(root):
    data = pathlib.Path(root) / "data"
    raw = data / "s3" / RAW
    for i, k in enumerate(RAW_KEYS):
        p = raw / k
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(hashlib.sha256(k.encode()).digest() * (40 + i))
    (raw / ".hidden-secret").write_text("never served")
    (raw / "2026" / ".tmp-delivery").write_text("in progress")
    os.symlink("/etc", raw / "etc-link")
    os.symlink("/etc/passwd", raw / "passwd-link")
    (data / "lake" / "orders").mkdir(parents=True)
    (data / "lake" / "orders" / "part-0.parquet").write_bytes(b"PAR1" + b"\0" * 100 + b"PAR1")
    return data


class S3ApiTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory(prefix="orderlake-s3api-")
        cls.data = make_data_dir(cls.tmp.name)
        cls.ep = Endpoint(cls.data, ["--read-only-bucket", RAW])
        cls.s3 = s3client(cls.ep)
        cls.env = dict(os.environ, AWS_ACCESS_KEY_ID="AKIDTEST", AWS_SECRET_ACCESS_KEY="secret",
                       AWS_DEFAULT_REGION="us-east-1", AWS_PAGER="")
        # The CLIs' defaults (8 MB threshold and parts): a 20 MB upload goes up in three parts.
        cls.env["AWS_CONFIG_FILE"] = str(pathlib.Path(cls.tmp.name) / "no-aws-config")
        cls.env.pop("AWS_ENDPOINT_URL", None)

    @classmethod
    def tearDownClass(cls):
        cls.ep.stop()
        cls.tmp.cleanup()

    def aws(self, cli, *args, ok=True):
        p = subprocess.run([cli, "--endpoint-url", self.ep.url, *args], env=self.env, capture_output=True,
                           text=True, timeout=180)
        if ok:
            self.assertEqual(p.returncode, 0, f"{args}: {p.stderr}")
        return p

    def test_aws_cli_v1_and_v2(self):
        clis = cli_binaries()
        self.assertEqual(len(clis), 2, f"both AWS CLIs are needed, found {clis}")
        work = pathlib.Path(self.tmp.name) / "cli"
        work.mkdir(exist_ok=True)
        big = work / "big.bin"
        big.write_bytes(os.urandom(20 * 1024 * 1024 + 123))
        for name, cli in clis:
            with self.subTest(cli=name):
                out = self.aws(cli, "s3", "ls").stdout
                for b in (RAW, RESULTS, LAKE):
                    self.assertIn(b, out)
                out = self.aws(cli, "s3", "ls", f"s3://{RAW}/2026/12/07/").stdout
                self.assertIn("PRE 12/", out)
                self.assertIn("PRE 13/", out)
                self.assertIn("top.json", out)
                out = self.aws(cli, "s3", "ls", "--recursive", f"s3://{RAW}/").stdout
                listed = sorted(line.split()[-1] for line in out.splitlines() if line.strip())
                self.assertEqual(listed, sorted(RAW_KEYS))
                self.assertNotIn("hidden", out)
                self.assertNotIn("link", out)
                # Down: byte-equal to the file in the bucket.
                dest = work / f"{name}-down.gz"
                self.aws(cli, "s3", "cp", f"s3://{RAW}/{RAW_KEYS[3]}", str(dest))
                self.assertEqual(dest.read_bytes(), (self.data / "s3" / RAW / RAW_KEYS[3]).read_bytes())
                # Up: a small file and a 20 MB one (multipart) into the results bucket.
                small = work / "small.csv"
                small.write_text("a,b\n1,2\n")
                self.aws(cli, "s3", "cp", str(small), f"s3://{RESULTS}/{name}/small.csv")
                self.assertEqual((self.data / "s3" / RESULTS / name / "small.csv").read_text(), "a,b\n1,2\n")
                self.aws(cli, "s3", "cp", str(big), f"s3://{RESULTS}/{name}/big.bin")
                self.assertEqual((self.data / "s3" / RESULTS / name / "big.bin").read_bytes(), big.read_bytes())
                back = work / f"{name}-big-back.bin"
                self.aws(cli, "s3", "cp", f"s3://{RESULTS}/{name}/big.bin", str(back))
                self.assertEqual(hashlib.md5(back.read_bytes()).digest(), hashlib.md5(big.read_bytes()).digest())
                self.assertEqual(list((self.data / ".s3-uploads").iterdir()), [])
                # Writes to a read-only bucket fail.
                p = self.aws(cli, "s3", "cp", str(small), f"s3://{LAKE}/x.csv", ok=False)
                self.assertNotEqual(p.returncode, 0)
                self.assertIn("AccessDenied", p.stderr)
                # rm, then rm --recursive (DeleteObjects).
                self.aws(cli, "s3", "rm", f"s3://{RESULTS}/{name}/small.csv")
                self.assertFalse((self.data / "s3" / RESULTS / name / "small.csv").exists())
                self.aws(cli, "s3", "cp", str(small), f"s3://{RESULTS}/{name}/d/1.csv")
                self.aws(cli, "s3", "cp", str(small), f"s3://{RESULTS}/{name}/d/2.csv")
                self.aws(cli, "s3", "rm", "--recursive", f"s3://{RESULTS}/{name}/")
                self.assertEqual(self.aws(cli, "s3", "ls", "--recursive", f"s3://{RESULTS}/{name}/", ok=False).stdout,
                                 "")
                self.assertFalse((self.data / "s3" / RESULTS / name).exists())

    def test_list_objects_v2_paging_and_delimiter(self):
        keys, token, pages = [], None, 0
        while True:
            kw = {"Bucket": RAW, "MaxKeys": 2, "Prefix": "2026/"}
            if token:
                kw["ContinuationToken"] = token
            r = self.s3.list_objects_v2(**kw)
            pages += 1
            self.assertLessEqual(r["KeyCount"], 2)
            keys += [o["Key"] for o in r.get("Contents", [])]
            if not r["IsTruncated"]:
                break
            token = r["NextContinuationToken"]
        self.assertEqual(keys, sorted(RAW_KEYS))
        self.assertEqual(pages, 5)
        r = self.s3.list_objects_v2(Bucket=RAW, Prefix="2026/12/07/", Delimiter="/")
        self.assertEqual([p["Prefix"] for p in r["CommonPrefixes"]], ["2026/12/07/12/", "2026/12/07/13/"])
        self.assertEqual([o["Key"] for o in r["Contents"]], ["2026/12/07/top.json"])
        self.assertEqual(r["KeyCount"], 3)
        # Common prefixes page too: one per page.
        seen, token = [], None
        while True:
            kw = {"Bucket": RAW, "Prefix": "2026/12/07/", "Delimiter": "/", "MaxKeys": 1}
            if token:
                kw["ContinuationToken"] = token
            r = self.s3.list_objects_v2(**kw)
            seen += [p["Prefix"] for p in r.get("CommonPrefixes", [])] + [o["Key"] for o in r.get("Contents", [])]
            if not r["IsTruncated"]:
                break
            token = r["NextContinuationToken"]
        self.assertEqual(seen, ["2026/12/07/12/", "2026/12/07/13/", "2026/12/07/top.json"])
        r = self.s3.list_objects_v2(Bucket=RAW, StartAfter=RAW_KEYS[5])
        self.assertEqual([o["Key"] for o in r["Contents"]], sorted(k for k in RAW_KEYS if k > RAW_KEYS[5]))
        # v1 with a marker.
        r = self.s3.list_objects(Bucket=RAW, Marker=RAW_KEYS[0], MaxKeys=3)
        self.assertEqual([o["Key"] for o in r["Contents"]], sorted(RAW_KEYS)[1:4])
        self.assertTrue(r["IsTruncated"])
        self.assertEqual(code_of(lambda: self.s3.list_objects_v2(Bucket=RAW, ContinuationToken="garbage!")),
                         ("InvalidArgument", 400))
        # encoding-type=url round trip through a key with a space and a plus.
        self.s3.put_object(Bucket=RESULTS, Key="enc/a b+c.txt", Body=b"x")
        r = self.s3.list_objects_v2(Bucket=RESULTS, Prefix="enc/", EncodingType="url")
        self.assertIn(r["Contents"][0]["Key"], ("enc/a b+c.txt", "enc/a%20b%2Bc.txt"))
        self.s3.delete_object(Bucket=RESULTS, Key="enc/a b+c.txt")

    def test_get_head_range(self):
        key = RAW_KEYS[2]
        whole = (self.data / "s3" / RAW / key).read_bytes()
        h = self.s3.head_object(Bucket=RAW, Key=key)
        self.assertEqual(h["ContentLength"], len(whole))
        self.assertRegex(h["ETag"], r'^"[0-9a-f]{32}"$')
        self.assertIn("LastModified", h)
        g = self.s3.get_object(Bucket=RAW, Key=key)
        self.assertEqual(g["Body"].read(), whole)
        self.assertEqual(g["ETag"], h["ETag"])
        for rng, want in (("bytes=2-5", whole[2:6]), ("bytes=-3", whole[-3:]), ("bytes=10-", whole[10:]),
                          (f"bytes=5-{len(whole) + 100}", whole[5:])):
            r = self.s3.get_object(Bucket=RAW, Key=key, Range=rng)
            self.assertEqual(r["ResponseMetadata"]["HTTPStatusCode"], 206, rng)
            self.assertEqual(r["Body"].read(), want, rng)
            self.assertTrue(r["ContentRange"].endswith(f"/{len(whole)}"))
        self.assertEqual(code_of(lambda: self.s3.get_object(Bucket=RAW, Key=key, Range=f"bytes={len(whole)}-")),
                         ("InvalidRange", 416))
        # A single put: the ETag is the quoted MD5 and stays the object's.
        body = os.urandom(1000)
        r = self.s3.put_object(Bucket=RESULTS, Key="q/1.csv", Body=body, ContentType="text/csv")
        self.assertEqual(r["ETag"], f'"{hashlib.md5(body).hexdigest()}"')
        h = self.s3.head_object(Bucket=RESULTS, Key="q/1.csv")
        self.assertEqual((h["ETag"], h["ContentType"], h["ContentLength"]), (r["ETag"], "text/csv", 1000))
        self.assertEqual(self.s3.get_object(Bucket=RESULTS, Key="q/1.csv")["Body"].read(), body)
        c = self.s3.copy_object(Bucket=RESULTS, Key="q/2.csv", CopySource={"Bucket": RAW, "Key": key})
        self.assertEqual(self.s3.get_object(Bucket=RESULTS, Key="q/2.csv")["Body"].read(), whole)
        self.assertIn("ETag", c["CopyObjectResult"])
        r = self.s3.delete_objects(Bucket=RESULTS, Delete={"Objects": [{"Key": "q/1.csv"}, {"Key": "q/2.csv"},
                                                                       {"Key": "q/none"}]})
        self.assertEqual(sorted(d["Key"] for d in r["Deleted"]), ["q/1.csv", "q/2.csv", "q/none"])
        self.assertEqual(code_of(lambda: self.s3.head_object(Bucket=RESULTS, Key="q/1.csv")), ("404", 404))

    def test_errors_and_confinement(self):
        s3 = self.s3
        self.assertEqual(code_of(lambda: s3.get_object(Bucket=RAW, Key="no/such/key")), ("NoSuchKey", 404))
        self.assertEqual(code_of(lambda: s3.get_object(Bucket="no-such-bucket", Key="k")), ("NoSuchBucket", 404))
        self.assertEqual(code_of(lambda: s3.list_objects_v2(Bucket="no-such-bucket")), ("NoSuchBucket", 404))
        self.assertEqual(code_of(lambda: s3.put_object(Bucket=LAKE, Key="orders/x", Body=b"x")), ("AccessDenied", 403))
        self.assertEqual(code_of(lambda: s3.put_object(Bucket=RAW, Key="x", Body=b"x")), ("AccessDenied", 403))
        self.assertEqual(code_of(lambda: s3.delete_object(Bucket=RAW, Key=RAW_KEYS[0])), ("AccessDenied", 403))
        self.assertTrue((self.data / "s3" / RAW / RAW_KEYS[0]).exists())
        # The lake reads as a bucket.
        self.assertEqual(s3.get_object(Bucket=LAKE, Key="orders/part-0.parquet")["Body"].read()[:4], b"PAR1")
        # Symlinks planted in a bucket are neither listed nor followed; hidden names never served.
        for key in ("etc-link/passwd", "passwd-link", ".hidden-secret", "2026/.tmp-delivery"):
            got = code_of(lambda: s3.get_object(Bucket=RAW, Key=key))
            self.assertIn(got, (("AccessDenied", 403), ("NoSuchKey", 404)), key)
        st, body, _ = self.ep.raw("GET", f"/{RAW}/etc-link/passwd")
        self.assertNotIn(b"root:", body)
        # ../ in keys and buckets, raw and percent-encoded: refused, nothing outside read or written.
        for target in (f"/{RAW}/../../../etc/passwd", f"/{RAW}/2026/%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
                       f"/{RESULTS}/a/..%2F..%2F..%2Fescape.txt", "/../etc/passwd", "/%2e%2e/etc/passwd",
                       "/..", f"/{RAW}/2026/../top.json"):
            for method in ("GET", "PUT"):
                st, body, _ = self.ep.raw(method, target, body=b"owned" if method == "PUT" else None)
                self.assertIn(st, (400, 403, 404), f"{method} {target}")
                self.assertNotIn(b"root:", body)
                self.assertIn(b"<Error><Code>", body)
        self.assertFalse((self.data / "s3" / "escape.txt").exists())
        self.assertFalse((self.data / "escape.txt").exists())
        self.assertEqual(code_of(lambda: s3.create_bucket(Bucket="Bad_Name")), ("InvalidBucketName", 400))
        # Buckets: create, already owned, delete (only empty, not read-only).
        s3.create_bucket(Bucket="scratch-bucket")
        self.assertTrue((self.data / "s3" / "scratch-bucket").is_dir())
        self.assertEqual(code_of(lambda: s3.create_bucket(Bucket="scratch-bucket")), ("BucketAlreadyOwnedByYou", 409))
        s3.head_bucket(Bucket="scratch-bucket")
        s3.put_object(Bucket="scratch-bucket", Key="k", Body=b"1")
        self.assertEqual(code_of(lambda: s3.delete_bucket(Bucket="scratch-bucket")), ("BucketNotEmpty", 409))
        s3.delete_object(Bucket="scratch-bucket", Key="k")
        s3.delete_bucket(Bucket="scratch-bucket")
        self.assertEqual(code_of(lambda: s3.head_bucket(Bucket="scratch-bucket")), ("404", 404))
        self.assertEqual(code_of(lambda: s3.delete_bucket(Bucket=LAKE)), ("AccessDenied", 403))
        self.assertEqual(code_of(lambda: s3.get_bucket_acl(Bucket=RAW)), ("NotImplemented", 501))

    def test_virtual_host_and_presigned(self):
        key = RAW_KEYS[1]
        whole = (self.data / "s3" / RAW / key).read_bytes()
        st, body, headers = self.ep.raw("GET", f"/{key}", headers={"Host": f"{RAW}.localhost:{self.ep.port}"})
        self.assertEqual((st, body), (200, whole))
        self.assertIn("x-amz-request-id", {k.lower() for k in headers})
        url = self.s3.generate_presigned_url("get_object", Params={"Bucket": RAW, "Key": key}, ExpiresIn=60)
        with urllib.request.urlopen(url, timeout=30) as r:
            self.assertEqual(r.read(), whole)

    def test_large_get_streams_at_bounded_rss(self):
        size = 1 << 30  # sparse: no disk used
        path = self.data / "s3" / RESULTS / "big" / "sparse.bin"
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "wb") as f:
            f.truncate(size)
        before = self.ep.rss_kb()
        conn = http.client.HTTPConnection("127.0.0.1", self.ep.port, timeout=60)
        conn.request("GET", f"/{RESULTS}/big/sparse.bin")
        r = conn.getresponse()
        self.assertEqual(int(r.getheader("Content-Length")), size)
        got, peak = 0, before
        while True:
            chunk = r.read(4 << 20)
            if not chunk:
                break
            got += len(chunk)
            if got % (64 << 20) < (4 << 20):
                peak = max(peak, self.ep.rss_kb())
        conn.close()
        self.assertEqual(got, size)
        print(f"GET 1 GiB: RSS {before} kB before, peak {peak} kB during", flush=True)
        self.assertLess(peak - before, 96 * 1024, "RSS grew with the object's size")
        # HEAD answers the length without reading.
        st, body, headers = self.ep.raw("HEAD", f"/{RESULTS}/big/sparse.bin")
        self.assertEqual((st, body, int(headers["Content-Length"])), (200, b"", size))
        path.unlink()


class S3ApiKeysTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory(prefix="orderlake-s3keys-")
        cls.data = make_data_dir(cls.tmp.name)
        cls.ep = Endpoint(cls.data, ["--access-key", "AK", "--secret-key", "SK"])

    @classmethod
    def tearDownClass(cls):
        cls.ep.stop()
        cls.tmp.cleanup()

    def test_signatures(self):
        good = s3client(self.ep, "AK", "SK")
        self.assertEqual(good.list_objects_v2(Bucket=RAW, Prefix="2026/12/07/12/")["KeyCount"], 4)
        body = os.urandom(70000)
        good.put_object(Bucket=RESULTS, Key="signed/a.bin", Body=body)  # aws-chunked + CRC32 trailer (botocore >= 1.36)
        self.assertEqual(good.get_object(Bucket=RESULTS, Key="signed/a.bin")["Body"].read(), body)
        self.assertEqual(code_of(lambda: s3client(self.ep, "AK", "wrong").list_objects_v2(Bucket=RAW)),
                         ("SignatureDoesNotMatch", 403))
        self.assertEqual(code_of(lambda: s3client(self.ep, "AK", "wrong").get_object(Bucket=RAW, Key=RAW_KEYS[0])),
                         ("SignatureDoesNotMatch", 403))
        self.assertEqual(code_of(lambda: s3client(self.ep, "NOPE", "SK").list_buckets()), ("InvalidAccessKeyId", 403))
        st, body, _ = self.ep.raw("GET", f"/{RAW}/{RAW_KEYS[0]}")
        self.assertEqual(st, 403)
        self.assertIn(b"AccessDenied", body)
        url = good.generate_presigned_url("get_object", Params={"Bucket": RAW, "Key": RAW_KEYS[0]}, ExpiresIn=60)
        with urllib.request.urlopen(url, timeout=30) as r:
            self.assertEqual(r.read(), (self.data / "s3" / RAW / RAW_KEYS[0]).read_bytes())
        # SigV4 query authentication (X-Amz-Algorithm, ...), as `aws s3 presign` makes outside us-east-1.
        v4 = boto3.client("s3", endpoint_url=self.ep.url, region_name="us-east-1", aws_access_key_id="AK",
                          aws_secret_access_key="SK",
                          config=Config(signature_version="s3v4", s3={"addressing_style": "path"}))
        url = v4.generate_presigned_url("get_object", Params={"Bucket": RAW, "Key": RAW_KEYS[0]}, ExpiresIn=60)
        self.assertIn("X-Amz-Signature=", url)
        with urllib.request.urlopen(url, timeout=30) as r:
            self.assertEqual(r.read(), (self.data / "s3" / RAW / RAW_KEYS[0]).read_bytes())
        with self.assertRaises(urllib.error.HTTPError) as e:
            urllib.request.urlopen(url.replace(RAW_KEYS[0], RAW_KEYS[1]), timeout=30)
        self.assertEqual(e.exception.code, 403)
        bad = s3client(self.ep, "AK", "wrong").generate_presigned_url(
            "get_object", Params={"Bucket": RAW, "Key": RAW_KEYS[0]}, ExpiresIn=60)
        with self.assertRaises(urllib.error.HTTPError) as e:
            urllib.request.urlopen(bad, timeout=30)
        self.assertEqual(e.exception.code, 403)
        self.assertIn(b"SignatureDoesNotMatch", e.exception.read())

    def test_cli_with_keys(self):
        env = dict(os.environ, AWS_ACCESS_KEY_ID="AK", AWS_SECRET_ACCESS_KEY="SK", AWS_DEFAULT_REGION="us-east-1",
                   AWS_PAGER="")
        env.pop("AWS_ENDPOINT_URL", None)
        src = pathlib.Path(self.tmp.name) / "up.txt"
        src.write_text("signed upload\n")
        for name, cli in cli_binaries():
            with self.subTest(cli=name):
                p = subprocess.run([cli, "--endpoint-url", self.ep.url, "s3", "cp", str(src),
                                    f"s3://{RESULTS}/{name}/up.txt"], env=env, capture_output=True, text=True,
                                   timeout=120)
                self.assertEqual(p.returncode, 0, p.stderr)
                p = subprocess.run([cli, "--endpoint-url", self.ep.url, "s3", "ls", f"s3://{RESULTS}/{name}/"],
                                   env=env, capture_output=True, text=True, timeout=120)
                self.assertIn("up.txt", p.stdout)
                env_bad = dict(env, AWS_SECRET_ACCESS_KEY="wrong")
                p = subprocess.run([cli, "--endpoint-url", self.ep.url, "s3", "ls", f"s3://{RAW}/"], env=env_bad,
                                   capture_output=True, text=True, timeout=120)
                self.assertNotEqual(p.returncode, 0)
                self.assertIn("SignatureDoesNotMatch", p.stderr)


if __name__ == "__main__":
    unittest.main(verbosity=2)
