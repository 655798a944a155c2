"""The production TLS site, nginx/adcraft-site.conf.example, served for real.

nginx starts with the example file as written, with only its install paths,
ports and certificate replaced (each replaced text must occur in the file,
so the test notices when the file changes under it), and the installed
snippets (the repo's nginx/*.conf) in a temporary configuration prefix. The
upstream is a real dev stack (adcraft-api, PostgreSQL, nchan: helpers.Stack):
its FastCGI socket, its loopback TCP listener, its edge secret and the
cors-origins.conf ./dev wrote from its cors_origins. The certificate is a
self-signed one made here with openssl for 127.0.0.1 and the outside address.

"Outside" is a non-loopback client address: the test adds one to a dummy
network interface (198.18.0.0/15, the benchmarking range) and curl binds to
it (--interface), so nginx sees $remote_addr = that address. That needs root
(CAP_NET_ADMIN): without it the test skips, except under CI, where it fails.

Every request is made with curl (HTTP/2 needs it; Python's requests speaks
HTTP/1.1 only). Whether a request reached adcraft-api is read from the
site's access log: `urt=` ($upstream_response_time) is `-` when nginx
answered by itself.
"""

import json
import os
import re
import shutil
import subprocess
import tempfile
import time
import uuid

import pytest

from helpers import SOURCE_DIR, Stack, free_ports

SITE = os.path.join(SOURCE_DIR, "nginx", "adcraft-site.conf.example")
NCHAN_MODULE = "/usr/lib/nginx/modules/ngx_nchan_module.so"
LISTED_ORIGIN = "http://localhost:5173"  # in the dev stack's cors_origins (./dev's default)
SECURITY_HEADERS = {
    "strict-transport-security": "max-age=63072000",
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
}


def under_ci():
    return os.environ.get("CI", "") not in ("", "false", "0")


def skip_or_fail(why):
    if under_ci():
        pytest.fail(f"cannot run under CI: {why}", pytrace=False)
    pytest.skip(why)


def run(*cmd, check=True, timeout=60):
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=timeout)
    out = p.stdout.decode("utf-8", "replace")
    if check and p.returncode != 0:
        raise AssertionError(f"{' '.join(cmd)} exited {p.returncode}:\n{out}")
    return p.returncode, out


# --- the outside address -----------------------------------------------------

class Outside:
    """A client on another network: a network namespace joined to this one by
    a veth pair. nginx listens on `server` (this namespace's end); a curl run
    in the namespace connects from `client`, which is what nginx sees as
    $remote_addr."""

    def __init__(self):
        n = os.getpid() % 16384
        self.ns = f"adcraft-t{os.getpid()}"
        self.host_if, self.ns_if = f"adcr{n}a", f"adcr{n}b"
        base = f"198.18.{n >> 6}."
        self.server, self.client = base + str((n & 63) * 4 + 1), base + str((n & 63) * 4 + 2)
        self.prefix = ["ip", "netns", "exec", self.ns]

    def up(self):
        rc, out = run("ip", "netns", "add", self.ns, check=False)
        if rc != 0:
            skip_or_fail(f"ip netns add: {out.strip()}")
        rc, out = run("ip", "link", "add", self.host_if, "type", "veth", "peer", "name", self.ns_if,
                      check=False)
        if rc != 0:
            skip_or_fail(f"ip link add ... type veth: {out.strip()}")
        run("ip", "link", "set", self.ns_if, "netns", self.ns)
        run("ip", "addr", "add", f"{self.server}/30", "dev", self.host_if)
        run("ip", "link", "set", self.host_if, "up")
        run(*self.prefix, "ip", "addr", "add", f"{self.client}/30", "dev", self.ns_if)
        run(*self.prefix, "ip", "link", "set", self.ns_if, "up")
        run(*self.prefix, "ip", "link", "set", "lo", "up")

    def down(self):
        run("ip", "link", "del", self.host_if, check=False)
        run("ip", "netns", "del", self.ns, check=False)


@pytest.fixture(scope="module")
def outside():
    if os.geteuid() != 0 or shutil.which("ip") is None:
        skip_or_fail("a network namespace needs root and ip(8)")
    o = Outside()
    try:
        o.up()
        yield o
    finally:
        o.down()


# --- nginx with the production site ------------------------------------------

class Site:
    """nginx running nginx/adcraft-site.conf.example in its own prefix."""

    def __init__(self, stack, outside):
        self.stack = stack
        self.outside = outside
        self.dir = tempfile.mkdtemp(prefix="adcraft-site-", dir="/tmp")
        os.chmod(self.dir, 0o755)
        self.https_port, self.http_port = free_ports(2)
        self.cert = os.path.join(self.dir, "fullchain.pem")
        self.key = os.path.join(self.dir, "privkey.pem")
        self.access_log = os.path.join(self.dir, "log", "adcraft.access.log")
        self.nchan_sock = os.path.join(self.dir, "nchan.sock")
        self.pid_file = os.path.join(self.dir, "nginx.pid")

    def write(self):
        d = self.dir
        for sub in ("adcraft", "log", "temp"):
            os.makedirs(os.path.join(d, sub))
        # the installed snippets: the repo's files; cors-origins.conf and
        # edge-secret.conf as ./dev wrote them for the upstream stack
        src = os.path.join(SOURCE_DIR, "nginx")
        for name in os.listdir(src):
            if name.endswith(".conf") and name != "cors-origins.conf":
                os.symlink(os.path.join(src, name), os.path.join(d, "adcraft", name))
        for name in ("cors-origins.conf", "edge-secret.conf"):
            shutil.copy(os.path.join(self.stack.dir, "adcraft", name), os.path.join(d, "adcraft", name))
        run("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
            "-nodes", "-days", "2", "-subj", "/CN=adcraft.example.com",
            "-addext", f"subjectAltName=DNS:adcraft.example.com,IP:127.0.0.1,IP:{self.outside.server}",
            "-keyout", self.key, "-out", self.cert)
        with open(SITE) as f:
            site = f.read()
        replace = [
            ("    listen       80;\n    listen       [::]:80;\n",
             f"    listen       127.0.0.1:{self.http_port};\n"),
            ("    listen       443 ssl http2;\n    listen       [::]:443 ssl http2;\n",
             f"    listen       127.0.0.1:{self.https_port} ssl http2;\n"
             f"    listen       {self.outside.server}:{self.https_port} ssl http2;\n"),
            ("/etc/nginx/adcraft/", f"{d}/adcraft/"),
            ("/var/log/nginx/", f"{d}/log/"),
            ("/etc/ssl/adcraft/fullchain.pem", self.cert),
            ("/etc/ssl/adcraft/privkey.pem", self.key),
            ("unix:/run/adcraft/api.sock", f"unix:{self.stack.dir}/run/api.sock"),
            ("unix:/run/adcraft/api-slow.sock", f"unix:{self.stack.dir}/run/api-slow.sock"),
            ("127.0.0.1:9001", f"127.0.0.1:{self.stack.api_port}"),
            ("unix:/run/adcraft/nchan.sock", f"unix:{self.nchan_sock}"),
            ("/var/lib/adcraft/exports", f"{self.stack.dir}/exports"),
            ("/var/lib/adcraft/media/", f"{self.stack.dir}/media/"),
        ]
        for old, new in replace:
            assert old in site, f"{SITE} no longer contains {old!r}: update this test with it"
            site = site.replace(old, new)
        with open(os.path.join(d, "site.conf"), "w") as f:
            f.write(site)
        user = "user root root;" if os.geteuid() == 0 else ""
        with open(os.path.join(d, "nginx.conf"), "w") as f:
            f.write(f"""load_module {NCHAN_MODULE};
{user}
worker_processes 1;
pid {self.pid_file};
error_log {d}/log/error.log notice;
events {{ worker_connections 512; }}
http {{
    default_type application/octet-stream;
    client_body_temp_path {d}/temp/body;
    proxy_temp_path {d}/temp/proxy;
    fastcgi_temp_path {d}/temp/fastcgi;
    uwsgi_temp_path {d}/temp/uwsgi;
    scgi_temp_path {d}/temp/scgi;
    include {d}/site.conf;
}}
""")

    def nginx(self, *args):
        return run("nginx", "-p", self.dir + "/", "-c", os.path.join(self.dir, "nginx.conf"),
                   "-e", os.path.join(self.dir, "log", "error.log"), *args)

    def start(self):
        self.write()
        self.nginx("-t", "-q")
        self.nginx()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if os.path.exists(self.pid_file) and os.path.exists(self.nchan_sock):
                return
            time.sleep(0.05)
        raise AssertionError("nginx did not start:\n" + self.error_log())

    def stop(self):
        try:
            with open(self.pid_file) as f:
                pid = int(f.read().split()[0])
        except (OSError, ValueError, IndexError):
            pid = None
        if pid:
            self.nginx("-s", "quit")
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and os.path.exists(f"/proc/{pid}"):
                time.sleep(0.05)
            if os.path.exists(f"/proc/{pid}"):
                subprocess.run(["pkill", "-KILL", "-P", str(pid)])
                os.kill(pid, 9)
        if os.environ.get("ADCRAFT_TEST_KEEP") != "1":
            shutil.rmtree(self.dir, ignore_errors=True)

    def error_log(self):
        try:
            with open(os.path.join(self.dir, "log", "error.log")) as f:
                return f.read()[-4000:]
        except OSError as e:
            return str(e)

    # --- requests --------------------------------------------------------
    def https(self, path, outside=False):
        host = self.outside.server if outside else "127.0.0.1"
        return f"https://{host}:{self.https_port}{path}"

    def curl(self, url, *args, outside=False):
        """One request, from loopback or from outside: (status, headers
        (lower-case names), body, HTTP version)."""
        hdr = tempfile.NamedTemporaryFile(dir=self.dir, delete=False)
        body = tempfile.NamedTemporaryFile(dir=self.dir, delete=False)
        hdr.close()
        body.close()
        cmd = ["curl", "-sS", "--cacert", self.cert, "-D", hdr.name, "-o", body.name,
               "-w", "%{http_code} %{http_version}", "--max-time", "20"]
        if outside:
            cmd = self.outside.prefix + cmd
        rc, out = run(*cmd, *args, url, check=False)
        try:
            if rc != 0:
                return Response(None, {}, b"", None, rc, out)
            status, version = out.split()[-2:]
            with open(hdr.name, "rb") as f:
                headers = parse_headers(f.read().decode("latin-1"))
            with open(body.name, "rb") as f:
                return Response(int(status), headers, f.read(), version, rc, out)
        finally:
            os.unlink(hdr.name)
            os.unlink(body.name)

    def upstream_time(self, request_id):
        """The access log's urt= for this request ('-': nginx answered itself)."""
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            with open(self.access_log) as f:
                for line in f:
                    if f"rid={request_id} " in line:
                        return re.search(r" urt=(\S+)", line).group(1)
            time.sleep(0.05)
        raise AssertionError(f"request {request_id} is not in {self.access_log}")


class Response:
    def __init__(self, status, headers, body, version, rc, out):
        self.status, self.headers, self.body, self.version = status, headers, body, version
        self.rc, self.out = rc, out

    def __repr__(self):
        return f"<{self.status} HTTP/{self.version} {self.headers} {self.body[:300]!r} curl={self.rc} {self.out[-300:]}>"


def parse_headers(text):
    """The headers of the last response in curl's -D output, names lower-cased."""
    blocks = [b for b in re.split(r"\r?\n\r?\n", text) if b.strip()]
    headers = {}
    for line in blocks[-1].splitlines()[1:]:
        name, _, value = line.partition(":")
        headers.setdefault(name.strip().lower(), []).append(value.strip())
    return {k: v[0] if len(v) == 1 else v for k, v in headers.items()}


@pytest.fixture(scope="module")
def stack():
    with Stack.start() as s:
        yield s


@pytest.fixture(scope="module")
def site(stack, outside):
    s = Site(stack, outside)
    try:
        s.start()
        yield s
    finally:
        s.stop()


def assert_security_headers(r):
    for name, value in SECURITY_HEADERS.items():
        assert r.headers.get(name) == value, f"{name}: {r.headers.get(name)!r} on {r!r}"
    assert "default-src 'none'" in r.headers.get("content-security-policy", ""), r


def assert_problem(r, status):
    assert r.status == status, r
    assert r.headers.get("content-type", "").split(";")[0] == "application/problem+json", r
    body = json.loads(r.body)
    assert body["status"] == status and body["title"] and body["detail"], body
    assert re.fullmatch(r"[0-9a-f]{32}", r.headers.get("x-request-id", "")), r
    return body


# --- TLS and HTTP/2 ------------------------------------------------------------

def test_https_with_http2_and_security_headers(site):
    r = site.curl(site.https("/api/health"), "--http2")
    assert r.status == 200 and r.version == "2", r
    assert_security_headers(r)
    assert site.upstream_time(r.headers["x-request-id"]) != "-"


def test_tls_12_and_13_only_with_aead_ciphers(site):
    url = site.https("/api/health")
    assert site.curl(url, "--tlsv1.3").status == 200
    assert site.curl(url, "--tlsv1.2", "--tls-max", "1.2").status == 200
    # a TLS 1.2 CBC suite the client offers alone: the server refuses it
    r = site.curl(url, "--tlsv1.2", "--tls-max", "1.2", "--ciphers", "ECDHE-ECDSA-AES128-SHA")
    assert r.status is None and r.rc == 35, r
    # TLS 1.1, even from a client that allows it (OpenSSL's security level 0)
    r = site.curl(url, "--tlsv1.1", "--tls-max", "1.1", "--ciphers", "DEFAULT@SECLEVEL=0")
    assert r.status is None and r.rc == 35, r


def test_plain_http_only_redirects(site):
    r = site.curl(f"http://127.0.0.1:{site.http_port}/api/health?x=1")
    assert r.status == 301, r
    assert r.headers["location"] == "https://adcraft.example.com/api/health?x=1", r
    # plain HTTP on the TLS port: a 400 problem, not nginx's HTML page
    r = site.curl(f"http://127.0.0.1:{site.https_port}/api/health")
    assert_problem(r, 400)
    assert site.upstream_time(r.headers["x-request-id"]) == "-"


# --- nginx's own answers: problem+json with every header --------------------------

def test_catch_all_is_a_problem_with_security_and_cors_headers(site):
    for path in ("/", "/nothing-here", "/index.html", "/pub/user." + str(uuid.uuid4())):
        r = site.curl(site.https(path), "--http2", "-H", f"Origin: {LISTED_ORIGIN}")
        assert_problem(r, 404)
        assert_security_headers(r)
        assert r.headers.get("access-control-allow-origin") == LISTED_ORIGIN, r
        assert site.upstream_time(r.headers["x-request-id"]) == "-"
    r = site.curl(site.https("/nothing-here"), "-H", "Origin: https://evil.example")
    assert_problem(r, 404)
    assert "access-control-allow-origin" not in r.headers, r


def test_body_limits_differ_per_location(site):
    big = os.path.join(site.dir, "big.bin")

    def post(path, size, ctype):
        with open(big, "wb") as f:
            f.truncate(size)
        return site.curl(site.https(path), "--http2", "-X", "POST", "-H", f"Content-Type: {ctype}",
                         "--data-binary", f"@{big}")

    # JSON: 1 MiB, refused by nginx before adcraft-api sees a byte
    r = post("/api/campaigns", 2 << 20, "application/json")
    body = assert_problem(r, 413)
    assert "1 MiB" in body["detail"], body
    assert_security_headers(r)
    assert site.upstream_time(r.headers["x-request-id"]) == "-"
    # image uploads: 11 MiB; 2 MiB passes nginx (adcraft-api wants a token: 401)
    r = post("/api/assets", 2 << 20, "multipart/form-data; boundary=x")
    assert r.status == 401, r
    assert site.upstream_time(r.headers["x-request-id"]) != "-"
    r = post("/api/assets", 12 << 20, "multipart/form-data; boundary=x")
    body = assert_problem(r, 413)
    assert "asset_max_bytes" in body["detail"], body
    assert_security_headers(r)
    # CSV imports: 20 MiB
    r = post("/api/contacts/import", 2 << 20, "text/csv")
    assert r.status == 401, r


def test_rate_limit_answers_429_problems(site):
    """/api/auth/: 10 requests/s per address, 20 more may wait. 60 at once on
    one HTTP/2 connection: the ones beyond the burst are 429 at once."""
    out = os.path.join(site.dir, "burst")
    os.makedirs(out)
    n = 60
    args = ["curl", "-sS", "--no-progress-meter", "--cacert", site.cert, "--http2", "--parallel", "--parallel-immediate",
            "--parallel-max", str(n), "--output-dir", out,
            "-w", "%{http_code}|%header{content-type}|%header{retry-after}|%header{x-request-id}|"
                  "%header{strict-transport-security}|%header{x-content-type-options}|"
                  "%header{x-frame-options}|%header{referrer-policy}\\n"]
    for i in range(n):
        args += ["-o", f"r{i}", site.https("/api/auth/login")]
    _, text = run(*args, timeout=60)
    rows = [line.split("|") for line in text.strip().splitlines()]
    assert len(rows) == n, text
    limited = [r for r in rows if r[0] == "429"]
    served = [r for r in rows if r[0] == "405"]  # GET on a POST route: adcraft-api's answer
    assert len(limited) >= n - 21 - 5 and len(served) + len(limited) == n, rows
    for status, ctype, retry, rid, *security in limited:
        assert ctype == "application/problem+json" and retry == "1", (ctype, retry)
        assert security == [SECURITY_HEADERS[h] for h in ("strict-transport-security",
                            "x-content-type-options", "x-frame-options", "referrer-policy")], security
    assert site.upstream_time(limited[0][3]) == "-"
    bodies = [open(os.path.join(out, f"r{i}"), "rb").read() for i in range(n)]
    assert sum(b'"status":429' in b for b in bodies) == len(limited)


# --- /media/ ------------------------------------------------------------------

def test_media_files_are_cached_as_immutable(site, stack):
    digest = os.urandom(32).hex()
    rel = f"{digest[:2]}/{digest}.png"
    path = os.path.join(stack.dir, "media", rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + b"\0" * 64)
    r = site.curl(site.https(f"/media/{rel}"), "--http2")
    assert r.status == 200 and r.body.startswith(b"\x89PNG"), r
    assert r.headers["content-type"] == "image/png", r
    assert r.headers["cache-control"] == "public, max-age=31536000, immutable", r
    assert r.headers["strict-transport-security"] == SECURITY_HEADERS["strict-transport-security"], r
    assert r.headers["x-content-type-options"] == "nosniff", r
    r = site.curl(site.https(f"/media/{digest[:2]}/{digest}.txt"))
    assert_problem(r, 404)
    assert r.headers["cache-control"] == "no-store", r


# --- what must not be reachable from outside -----------------------------------

def test_metrics_only_from_loopback(site):
    """From a non-loopback address nginx answers /api/metrics itself with the
    plain 404 problem (adcraft-api never sees it); from loopback the request
    goes on to adcraft-api, which makes its own check."""
    for outside in (True, False):
        r = site.curl(site.https("/api/metrics", outside), "--http2", outside=outside)
        if outside:
            assert_problem(r, 404)
            assert_security_headers(r)
            assert site.upstream_time(r.headers["x-request-id"]) == "-", "reached adcraft-api from outside"
        else:
            assert r.status is not None, r
            assert site.upstream_time(r.headers["x-request-id"]) != "-", "loopback was not passed on"
    # the address nginx saw is the outside client's (so the test tests something)
    deadline = time.monotonic() + 5  # the access log is written once a second (buffer=32k flush=1s)
    while True:
        with open(site.access_log) as f:
            seen = any(line.startswith(site.outside.client + " ") and "/api/metrics" in line for line in f)
        if seen or time.monotonic() >= deadline:
            break
        time.sleep(0.05)
    assert seen


def test_internal_export_location_is_not_reachable(site, stack):
    """The files adcraft-api sends through X-Accel-Redirect are never served
    to a direct request, from outside or from loopback, even when they exist."""
    name = f"{uuid.uuid4()}.csv"
    path = os.path.join(stack.dir, "exports", name)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write("secret,data\n")
    try:
        for outside in (True, False):
            r = site.curl(site.https(f"/_adcraft/exports/{name}", outside), outside=outside)
            assert_problem(r, 404)
            assert b"secret" not in r.body
            assert_security_headers(r)
            assert site.upstream_time(r.headers["x-request-id"]) == "-"
        # nor the error pages or the events authorization
        for internal in ("/_adcraft/error/500", "/_adcraft/events/auth"):
            r = site.curl(site.https(internal, True), outside=True)
            assert_problem(r, 404)
    finally:
        os.unlink(path)


def test_nchan_publisher_is_on_the_unix_socket_only(site):
    channel = f"user.{uuid.uuid4()}"
    rc, out = run("curl", "-sS", "--unix-socket", site.nchan_sock, "-o", "/dev/null",
                  "-w", "%{http_code}", "-X", "POST", "-H", "Content-Type: application/json",
                  "--data", '{"type":"notification"}', f"http://localhost/pub/{channel}")
    assert out.strip() in ("201", "202"), out
    for outside in (False, True):
        r = site.curl(site.https(f"/pub/{channel}", outside), "-X", "POST", "--data", "{}",
                      "-H", "Content-Type: application/json", outside=outside)
        assert_problem(r, 404)
