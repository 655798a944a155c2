"""Shared helpers for the integration suite: the dev stack, HTTP, JWTs, assertions.

A Stack is one fresh PostgreSQL + adcraft-api + nginx started by the repo's
`./dev up --no-build --no-demo` in its own temp dir on its own ports, and
stopped by `./dev down` (always). Every request goes through nginx.
"""

import base64
import contextlib
import hashlib
import hmac
import json as jsonlib
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import uuid

import psycopg
import requests

import contract

SOURCE_DIR = os.environ.get("ADCRAFT_SOURCE_DIR") or os.path.dirname(
    os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD_DIR = os.environ.get("ADCRAFT_BUILD_DIR") or os.path.join(SOURCE_DIR, "build")

PASSWORD = "correct horse battery staple"
REQUEST_ID_RE = re.compile(r"^[0-9a-f]{32}$")
UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
RFC3339_UTC_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|\+00:00)$")

# Generous limits for the shared stack, so a fast test run never trips the
# per-IP limit on /api/auth/; the rate-limit test runs its own stack with the
# defaults.
RELAXED_LIMITS = {
    "ADCRAFT_DEV_AUTH_RATE": "1000r/s",
    "ADCRAFT_DEV_AUTH_BURST": "5000",
    "ADCRAFT_DEV_API_RATE": "1000r/s",
    "ADCRAFT_DEV_API_BURST": "5000",
}


def free_ports(n):
    """n distinct free TCP ports on 127.0.0.1, picked by the kernel (bind to 0).

    All sockets are held open until every port is picked, so the ports are
    distinct; the kernel's choice keeps parallel test processes apart."""
    socks = []
    try:
        for _ in range(n):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind(("127.0.0.1", 0))
            socks.append(s)
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


# What AddressSanitizer, LeakSanitizer and UBSan print at the start of a
# report (a sanitized build, see docs/testing.md). Log lines the daemons write
# themselves are JSON objects, so a request path cannot look like these.
SANITIZER_REPORT_RE = re.compile(
    r"^==\d+==\s*(ERROR|WARNING): (AddressSanitizer|LeakSanitizer|UndefinedBehaviorSanitizer)"
    r"|^\S+:\d+:\d+: runtime error: "
    r"|^SUMMARY: (AddressSanitizer|LeakSanitizer|UndefinedBehaviorSanitizer)")
DAEMON_LOGS = ("log/api.log", "log/worker.log")


def sanitizer_reports(path, context=40):
    """The sanitizer reports in a log file, each with the lines that follow it."""
    try:
        with open(path, "rb") as f:
            lines = f.read().decode("utf-8", "replace").splitlines()
    except FileNotFoundError:
        return []
    reports, i = [], 0
    while i < len(lines):
        if SANITIZER_REPORT_RE.search(lines[i]):
            reports.append("\n".join(lines[i:i + context]))
            i += context
        else:
            i += 1
    return reports


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # a zombie is not running; ./dev's children are reaped by init, but check
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _kill_tree(pid):
    """SIGKILL pid and its direct children (a master and its workers)."""
    p = subprocess.run(["pgrep", "-P", str(pid)], stdout=subprocess.PIPE, text=True)
    for child in [int(x) for x in p.stdout.split()] + [pid]:
        try:
            os.kill(child, signal.SIGKILL)
        except ProcessLookupError:
            pass


def _tail(path, n=60):
    try:
        with open(path, "rb") as f:
            lines = f.read().decode("utf-8", "replace").splitlines()
        return "\n".join(lines[-n:])
    except OSError as e:
        return f"<{e}>"


class Stack:
    """One dev stack. Use Stack.start() as a context manager."""

    def __init__(self, extra_env=None):
        self.dir = tempfile.mkdtemp(prefix="adcraft-it-", dir="/tmp")
        os.chmod(self.dir, 0o755)  # postgres must traverse it
        self.port, self.api_port, self.pg_port, self.smtp_port, self.mail_ui_port = free_ports(5)
        self.env = dict(os.environ)
        self.env.update({
            "ADCRAFT_DEV_DIR": self.dir,
            "ADCRAFT_BUILD_DIR": BUILD_DIR,
            "ADCRAFT_DEV_PORT": str(self.port),
            "ADCRAFT_DEV_API_PORT": str(self.api_port),
            "ADCRAFT_DEV_PG_PORT": str(self.pg_port),
            "ADCRAFT_DEV_SMTP_PORT": str(self.smtp_port),
            "ADCRAFT_DEV_MAIL_UI_PORT": str(self.mail_ui_port),
        })
        self.env.update(extra_env or {})
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.mail_ui_url = f"http://127.0.0.1:{self.mail_ui_port}"  # maildev's REST API
        self.api_pid_file = os.path.join(self.dir, "run", "api.pid")
        self.nginx_pid_file = os.path.join(self.dir, "run", "nginx.pid")
        self.pg_socket_dir = os.path.join(self.dir, "pg-socket")
        self.up_output = ""

    # --- lifecycle -------------------------------------------------------
    def dev(self, *args, timeout=180, check=True):
        p = subprocess.run([os.path.join(SOURCE_DIR, "dev"), *args], cwd=SOURCE_DIR,
                           env=self.env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           timeout=timeout)
        out = p.stdout.decode("utf-8", "replace")
        if check and p.returncode != 0:
            raise RuntimeError(f"./dev {' '.join(args)} exited {p.returncode}:\n{out}\n"
                               f"{self.diagnostics()}")
        return out

    def up(self):
        self.up_output = self.dev("up", "--no-build", "--no-demo", timeout=300)

    def _pids(self):
        """Master pids of what `up` started, read from the pid files."""
        pids = {}
        for name, rel in (("adcraft-api", "run/api.pid"), ("nginx", "run/nginx.pid"),
                          ("postgres", "pg/postmaster.pid"), ("maildev", "run/maildev.pid")):
            try:
                pids[name] = int(self.read_file(rel).split()[0])
            except (OSError, ValueError, IndexError):
                pass
        return pids

    def down(self):
        """./dev down, then check that it stopped everything; whatever it left
        running (started by this stack) is killed and reported."""
        try:
            pids = self._pids()
            try:
                out = self.dev("down", timeout=120, check=False)
            except subprocess.TimeoutExpired:
                out = "./dev down timed out after 120 s"
            left = []
            deadline = time.monotonic() + 15
            for name, pid in pids.items():
                while _alive(pid) and time.monotonic() < deadline:
                    time.sleep(0.1)
                if _alive(pid):
                    left.append(f"{name} (pid {pid})")
                    _kill_tree(pid)
            if left:
                raise AssertionError(f"./dev down left running: {', '.join(left)}\n{out}")
            self.check_sanitizer_reports()
        finally:
            if os.environ.get("ADCRAFT_TEST_KEEP") != "1":
                shutil.rmtree(self.dir, ignore_errors=True)

    @classmethod
    @contextlib.contextmanager
    def start(cls, extra_env=None):
        s = cls(extra_env)
        try:
            s.up()
            yield s
        finally:
            s.down()

    def check_sanitizer_reports(self):
        """Fails (AssertionError) if a daemon's log holds a sanitizer report:
        with a sanitized build, a memory error or undefined behaviour in any
        adcraft-api or adcraft-worker process fails the test file that ran it."""
        found = []
        for rel in DAEMON_LOGS:
            for report in sanitizer_reports(os.path.join(self.dir, rel)):
                found.append(f"--- {rel} ---\n{report}")
        if found:
            raise AssertionError(f"sanitizer report(s) in the daemons' logs ({len(found)}):\n"
                                 + "\n".join(found[:5]))

    def diagnostics(self):
        parts = []
        for name in ("log/api.log", "log/nginx-error.log", "log/pg.log"):
            parts.append(f"--- {name} (tail) ---\n{_tail(os.path.join(self.dir, name))}")
        return "\n".join(parts)

    def pg_stop(self):
        return self.dev("pg", "stop", timeout=120)

    def pg_start(self):
        return self.dev("pg", "start", timeout=120)

    def api_master_pid(self):
        with open(self.api_pid_file) as f:
            return int(f.read().strip())

    def api_children(self):
        p = subprocess.run(["pgrep", "-P", str(self.api_master_pid())],
                           stdout=subprocess.PIPE, text=True)
        return sorted(int(x) for x in p.stdout.split())

    def read_file(self, rel):
        with open(os.path.join(self.dir, rel), "rb") as f:
            return f.read()

    def log_with(self, rel, *needles, timeout=5):
        """A log file's text once it holds every needle: request lines wait up to a second before they are
        written (adcraft-api's log_flush_ms, nginx's access_log flush=1s). Raises AssertionError after timeout."""
        deadline = time.monotonic() + timeout
        while True:
            text = self.read_file(rel).decode("utf-8", "replace")
            if all(n in text for n in needles):
                return text
            if time.monotonic() >= deadline:
                missing = [n for n in needles if n not in text]
                raise AssertionError(f"{rel} does not hold {missing} after {timeout} s")
            time.sleep(0.05)

    # --- HTTP ------------------------------------------------------------
    def url(self, path):
        return self.base_url + path

    def api(self, method, path, json=None, token=None, headers=None, data=None, timeout=30):
        """One request through nginx on a fresh connection. X-Request-Id is
        checked on every response, and the response against docs/openapi.yaml
        (contract.py)."""
        h = dict(headers or {})
        if token is not None:
            h["Authorization"] = f"Bearer {token}"
        r = requests.request(method, self.url(path), json=json, data=data, headers=h,
                             timeout=timeout, allow_redirects=False)
        check_request_id(r)
        contract.check_response(r)
        return r

    def register_user(self, email=None, password=PASSWORD, name="Test User"):
        """Register a new user with a unique email; returns (user, access, refresh)."""
        email = email or unique_email()
        r = self.api("POST", "/api/auth/register",
                     json={"email": email, "password": password, "name": name})
        assert r.status_code == 201, (r.status_code, r.text)
        b = r.json()
        return b["user"], b["accessToken"], b["refreshToken"]

    # --- database --------------------------------------------------------
    def db(self):
        """A new autocommit connection to the dev database as superuser postgres."""
        return psycopg.connect(host=self.pg_socket_dir, port=self.pg_port, dbname="adcraft",
                               user="postgres", autocommit=True, connect_timeout=10)

    def scalar(self, sql, params=None):
        with self.db() as conn:
            return conn.execute(sql, params).fetchone()[0]

    def user_count(self):
        return self.scalar("SELECT count(*) FROM users")

    def wait_healthy(self, timeout=15.0):
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            try:
                last = self.api("GET", "/api/health", timeout=5)
                if last.status_code == 200:
                    return last
            except requests.RequestException as e:
                last = e
            time.sleep(0.1)
        raise AssertionError(f"stack not healthy within {timeout}s: {last!r}")


# --- small helpers ----------------------------------------------------------

def unique_email(prefix="u"):
    return f"{prefix}-{uuid.uuid4().hex[:16]}@example.com"


def check_request_id(r):
    rid = r.headers.get("X-Request-Id")
    assert rid, f"no X-Request-Id on {r.request.method} {r.url} -> {r.status_code}"
    assert REQUEST_ID_RE.match(rid), \
        f"X-Request-Id {rid!r} is not one nginx $request_id (duplicated header?)"
    return rid


def assert_problem(r, status, fields=None):
    """r is an application/problem+json error with this status; for 422, each
    name in `fields` appears as an errors[].field. Returns the body."""
    assert r.status_code == status, \
        f"expected {status}, got {r.status_code}: {r.headers.get('Content-Type')} {r.text[:500]}"
    ctype = r.headers.get("Content-Type", "")
    assert ctype.split(";")[0].strip().lower() == "application/problem+json", \
        f"content type {ctype!r} for {status}: {r.text[:300]}"
    check_request_id(r)
    body = r.json()
    assert isinstance(body, dict), body
    assert body.get("status") == status, body
    assert isinstance(body.get("title"), str) and body["title"], body
    assert isinstance(body.get("detail"), str) and body["detail"], body
    if "type" in body:
        assert isinstance(body["type"], str) and body["type"], body
    if fields:
        errs = body.get("errors")
        assert isinstance(errs, list) and errs, f"422 without errors list: {body}"
        for e in errs:
            assert isinstance(e, dict) and isinstance(e.get("field"), str) \
                and isinstance(e.get("message"), str) and e["message"], body
        got = {e["field"] for e in errs}
        for f in fields:
            assert f in got, f"errors[].field {f!r} missing: {body}"
    return body


def assert_json(r, status):
    assert r.status_code == status, f"expected {status}, got {r.status_code}: {r.text[:500]}"
    ctype = r.headers.get("Content-Type", "")
    assert ctype.split(";")[0].strip().lower() == "application/json", ctype
    return r.json()


# --- JWT (HS256 by hand; no pyjwt) -----------------------------------------

def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64url_decode(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def jwt_parts(token):
    h, p, s = token.split(".")
    return jsonlib.loads(b64url_decode(h)), jsonlib.loads(b64url_decode(p)), s


def jwt_make(header, payload, key=None, alg="HS256"):
    head = b64url(jsonlib.dumps(header, separators=(",", ":")).encode())
    body = b64url(jsonlib.dumps(payload, separators=(",", ":")).encode())
    signing_input = f"{head}.{body}".encode()
    if key is None:
        return f"{head}.{body}."
    digest = {"HS256": hashlib.sha256, "HS384": hashlib.sha384,
              "HS512": hashlib.sha512}[alg]
    sig = hmac.new(key, signing_input, digest).digest()
    return f"{head}.{body}.{b64url(sig)}"


def jwt_find_key(stack, token):
    """The bytes of the stack's JWT secret as the server uses them, found by
    re-signing a real token; None if no obvious reading of jwt.key matches."""
    raw = stack.read_file("jwt.key")
    h, p, s = token.split(".")
    candidates = [raw, raw.rstrip(b"\n"), raw.strip()]
    for enc in (lambda x: bytes.fromhex(x.decode()), lambda x: base64.b64decode(x)):
        try:
            candidates.append(enc(raw.strip()))
        except Exception:
            pass
    for k in candidates:
        sig = b64url(hmac.new(k, f"{h}.{p}".encode(), hashlib.sha256).digest())
        if hmac.compare_digest(sig, s):
            return k
    return None
