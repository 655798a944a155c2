"""SMTP delivery against a scripted real server (tests/smtp/scripted-server.mjs,
nodemailer's smtp-server): STARTTLS with a certificate made by openssl for
this run, AUTH, implicit TLS (smtps://), and the classification of refusals
(5xx permanent, 4xx and connection/TLS/AUTH failures transient), through
`adcraft mail-test`. No stack: mail-test needs a configuration, not a database.

Without node or tests/smtp/node_modules the file skips, except under CI.
"""

import email
import email.policy
import json
import os
import re
import shutil
import subprocess
import tempfile
import time

import pytest

from helpers import BUILD_DIR, SOURCE_DIR, free_ports

SMTP_DIR = os.path.join(SOURCE_DIR, "tests", "smtp")


def _ci():
    return os.environ.get("CI", "") not in ("", "false", "0")


@pytest.fixture(scope="module")
def tmp():
    why = []
    if not shutil.which("node"):
        why.append("no node")
    if not os.path.isdir(os.path.join(SMTP_DIR, "node_modules", "smtp-server")):
        why.append("no tests/smtp/node_modules (npm ci in tests/smtp, or ./dev up)")
    if not shutil.which("openssl"):
        why.append("no openssl")
    if why:
        (pytest.fail if _ci() else pytest.skip)("; ".join(why))
    d = tempfile.mkdtemp(prefix="adcraft-smtp-")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                    "-nodes", "-keyout", f"{d}/key.pem", "-out", f"{d}/cert.pem", "-days", "1",
                    "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for name in ("jwt.key", "mail.key"):
        with open(f"{d}/{name}", "w") as f:
            f.write(os.urandom(32).hex() + "\n")
    with open(f"{d}/smtp.pass", "w") as f:
        f.write("s3cret pass\n")
    with open(f"{d}/wrong.pass", "w") as f:
        f.write("not it\n")
    yield d
    shutil.rmtree(d, ignore_errors=True)


class Server:
    def __init__(self, tmp, smtps=False):
        self.port = free_ports(1)[0]
        self.out = tempfile.mkdtemp(dir=tmp)
        self.log = os.path.join(self.out, "events.jsonl")
        args = ["node", os.path.join(SMTP_DIR, "scripted-server.mjs"), "--port", str(self.port),
                "--tls-key", f"{tmp}/key.pem", "--tls-cert", f"{tmp}/cert.pem", "--user", "adcraft",
                "--pass", "s3cret pass", "--out", self.out]
        if smtps:
            args.append("--smtps")
        self.proc = subprocess.Popen(args, stdout=open(self.log, "w"), stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 15
        while not any(e["event"] == "listening" for e in self.events()):
            assert self.proc.poll() is None, open(self.log).read()
            assert time.monotonic() < deadline, "scripted server did not start"
            time.sleep(0.05)

    def events(self, kind=None):
        out = []
        with open(self.log) as f:
            for line in f:
                if line.startswith("{"):
                    e = json.loads(line)
                    if kind is None or e["event"] == kind:
                        out.append(e)
        return out

    def stop(self):
        self.proc.terminate()
        self.proc.wait(10)


@pytest.fixture(scope="module")
def server(tmp):
    s = Server(tmp)
    yield s
    s.stop()


def mail_test(tmp, servers, to, *args):
    conf = os.path.join(tmp, "adcraft.conf")
    with open(conf, "w") as f:
        f.write(f"jwt_secret_file = {tmp}/jwt.key\n"
                f"smtp_servers = {servers}\n"
                "mail_from = news@acme.example\nmail_from_name = Acme\n"
                "mail_public_base_url = https://acme.example\n"
                f"mail_token_key_file = {tmp}/mail.key\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("ADCRAFT_")}
    return subprocess.run([os.path.join(BUILD_DIR, "adcraft"), "--config", conf, "mail-test", "--to", to, *args],
                          env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=60)


def auth(tmp, password="smtp.pass"):
    return f"user=adcraft password_file={tmp}/{password} ca_file={tmp}/cert.pem"


def test_starttls_and_auth_deliver(tmp, server):
    p = mail_test(tmp, f"smtp://127.0.0.1:{server.port} {auth(tmp)}", "ada@example.org")
    assert p.returncode == 0, p.stderr
    assert "Ok: queued as" in p.stdout
    msgs = [m for m in server.events("message") if m["to"] == ["ada@example.org"]]
    assert len(msgs) == 1
    assert msgs[0]["secure"] is True and msgs[0]["user"] == "adcraft"
    assert msgs[0]["from"] == "news@acme.example"
    assert msgs[0]["id"] in p.stdout  # the queue id comes back from the final reply
    with open(os.path.join(server.out, msgs[0]["id"] + ".eml"), "rb") as f:
        msg = email.message_from_bytes(f.read(), policy=email.policy.default)
    assert msg["Subject"] == "Ada, your adcraft test — Grüße ✨"
    assert msg.get_content_type() == "multipart/alternative"


def test_wrong_password_is_transient_not_a_bounce(tmp, server):
    p = mail_test(tmp, f"smtp://127.0.0.1:{server.port} {auth(tmp, 'wrong.pass')}", "wrongpw@example.org")
    assert p.returncode == 75, (p.returncode, p.stderr)
    assert not [m for m in server.events("message") if m["to"] == ["wrongpw@example.org"]]
    assert any(a["ok"] is False and a["secure"] for a in server.events("auth"))


def test_certificate_is_verified(tmp, server):
    """Without ca_file the self-signed certificate is not trusted: nothing is sent."""
    p = mail_test(tmp, f"smtp://127.0.0.1:{server.port} user=adcraft password_file={tmp}/smtp.pass",
                  "untrusted@example.org")
    assert p.returncode == 75, (p.returncode, p.stderr)
    assert not [m for m in server.events("message") if m["to"] == ["untrusted@example.org"]]


@pytest.mark.parametrize("to,status,code,reply", [
    ("bounce1@example.org", 1, "550", "550 5.1.1 No such user here"),
    ("defer1@example.org", 75, "451", "451 4.3.0 Try again later"),
    ("reject-data1@example.org", 1, "554", "554 5.6.0 Message content rejected"),
])
def test_refusals_are_classified(tmp, server, to, status, code, reply):
    p = mail_test(tmp, f"smtp://127.0.0.1:{server.port} {auth(tmp)}", to)
    assert p.returncode == status, (p.returncode, p.stderr)
    kind = "permanent" if status == 1 else "transient"
    assert f"{kind} failure ({code}): {reply}" in p.stderr, p.stderr
    assert not [m for m in server.events("message") if m["to"] == [to]]


def test_smtps_implicit_tls(tmp):
    s = Server(tmp, smtps=True)
    try:
        p = mail_test(tmp, f"smtps://127.0.0.1:{s.port} {auth(tmp)}", "tls@example.org")
        assert p.returncode == 0, p.stderr
        msgs = s.events("message")
        assert len(msgs) == 1 and msgs[0]["secure"] is True
    finally:
        s.stop()


def test_connection_reused_then_renewed_after_per_conn(tmp, server):
    """Five messages with per_conn=2 go over three connections (2 + 2 + 1)."""
    to = "reuse@example.org"
    p = mail_test(tmp, f"smtp://127.0.0.1:{server.port} {auth(tmp)} per_conn=2", to, "--count", "5")
    assert p.returncode == 0, p.stderr
    msgs = [m for m in server.events("message") if m["to"] == [to]]
    assert len(msgs) == 5
    # the queue id of every message, also of those whose connection closed right after (QUIT's 221 is not it)
    assert [m["id"] for m in msgs] == re.findall(r"Ok: queued as ([0-9a-f]+)", p.stdout), p.stdout
    conns = [m["remotePort"] for m in msgs]
    assert conns[0] == conns[1] != conns[2] == conns[3] != conns[4], conns
    assert len(set(conns)) == 3, conns


def test_rate_limit_per_server(tmp, server):
    """rate=10: eleven messages take at least one second (one at once, then one every 100 ms)."""
    to = "rate@example.org"
    start = time.monotonic()
    p = mail_test(tmp, f"smtp://127.0.0.1:{server.port} {auth(tmp)} rate=10", to, "--count", "11")
    elapsed = time.monotonic() - start
    assert p.returncode == 0, p.stderr
    assert elapsed >= 0.95, elapsed
    assert len([m for m in server.events("message") if m["to"] == [to]]) == 11


def test_servers_share_the_load(tmp, server):
    """Two servers: the pool takes them in turn."""
    other = Server(tmp)
    try:
        to = "shared@example.org"
        p = mail_test(tmp, f"smtp://127.0.0.1:{server.port} {auth(tmp)}, smtp://127.0.0.1:{other.port} {auth(tmp)}",
                      to, "--count", "6")
        assert p.returncode == 0, p.stderr
        a = [m for m in server.events("message") if m["to"] == [to]]
        b = [m for m in other.events("message") if m["to"] == [to]]
        assert (len(a), len(b)) == (3, 3)
    finally:
        other.stop()
