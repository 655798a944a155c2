"""The mail library end to end: `adcraft mail-test` renders a sample email,
builds it and delivers it over SMTP (libcurl) to the stack's maildev (started
by ./dev up); the raw message maildev received is parsed back with Python's
`email` package.

What the worker's sends will do per recipient is what mail-test does once:
render (merge tags, layout, tracking), mime_build, smtp_pool_send.
"""

import base64
import email
import email.policy
import email.utils
import os
import re
import subprocess
import time

import pytest
import requests

from helpers import BUILD_DIR, free_ports

SUBJECT = "Grüße, {{firstName}} — 春のセール ✨ {{lastName}}"
FIRST = "Ada <b>&"
LAST = "O'Neil"


def mail_test(stack, *args, env=None):
    e = dict(stack.env)
    e.update(env or {})
    return subprocess.run([os.path.join(BUILD_DIR, "adcraft"), "--config", os.path.join(stack.dir, "adcraft.conf"),
                           "mail-test", *args], env=e, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          text=True, timeout=60)


def inbox(stack):
    r = requests.get(f"{stack.mail_ui_url}/email", timeout=10)
    assert r.status_code == 200, r.text
    return r.json()


def fetch(stack, to, timeout=10.0):
    """The raw source of the one message maildev holds for `to`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        mails = [m for m in inbox(stack) if any(t["address"] == to for t in m["to"])]
        if mails:
            assert len(mails) == 1, mails
            r = requests.get(f"{stack.mail_ui_url}/email/{mails[0]['id']}/source", timeout=10)
            assert r.status_code == 200
            return r.content
        time.sleep(0.1)
    raise AssertionError(f"no message for {to} in maildev")


def b64url_decode(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


@pytest.fixture(scope="module")
def delivered(stack):
    to = "ada.lovelace@example.org"
    p = mail_test(stack, "--to", to, "--subject", SUBJECT, "--first-name", FIRST, "--last-name", LAST)
    assert p.returncode == 0, p.stderr
    m = re.match(r"sent (<[^>]+>) to (\S+) \((\d+) bytes\): (250 .*)$", p.stdout.strip())
    assert m, p.stdout
    raw = fetch(stack, to)
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    return {"stdout": p.stdout, "msgid": m.group(1), "reply": m.group(4), "raw": raw, "msg": msg, "to": to}


def test_headers(stack, delivered):
    msg = delivered["msg"]
    assert msg["Message-ID"] == delivered["msgid"]
    assert re.fullmatch(r"<[A-Za-z0-9_-]{24}@adcraft\.local>", delivered["msgid"])
    sent = email.utils.parsedate_to_datetime(msg["Date"])
    assert sent.utcoffset().total_seconds() == 0
    assert abs(time.time() - sent.timestamp()) < 120
    assert msg["From"].addresses[0].display_name == "adcraft demo"
    assert msg["From"].addresses[0].addr_spec == "news@adcraft.local"
    assert msg["Reply-To"].addresses[0].addr_spec == "reply@adcraft.local"
    assert msg["To"].addresses[0].addr_spec == delivered["to"]
    assert msg["MIME-Version"] == "1.0"
    assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    lu = re.fullmatch(r"<(\S+)/u/([A-Za-z0-9_-]+)>,\s*<mailto:unsubscribe@adcraft\.local\?subject=unsubscribe-(\S+)>",
                      str(msg["List-Unsubscribe"]))
    assert lu, msg["List-Unsubscribe"]
    assert lu.group(1) == stack.base_url
    assert lu.group(2) == lu.group(3)
    assert delivered["reply"].startswith("250"), delivered["reply"]


def test_subject_rfc2047_round_trip_with_merge_tags(delivered):
    msg = delivered["msg"]
    assert msg["Subject"] == f"Grüße, {FIRST} — 春のセール ✨ {LAST}"
    raw_headers = delivered["raw"].split(b"\r\n\r\n", 1)[0].decode("ascii")  # all ASCII on the wire
    assert "=?UTF-8?B?" in raw_headers
    for line in raw_headers.split("\r\n"):
        assert len(line) <= 998


def test_multipart_alternative_quoted_printable(delivered):
    msg = delivered["msg"]
    assert msg.get_content_type() == "multipart/alternative"
    parts = list(msg.iter_parts())
    assert [p.get_content_type() for p in parts] == ["text/plain", "text/html"]
    for p in parts:
        assert p["Content-Transfer-Encoding"] == "quoted-printable"
        assert p.get_content_charset() == "utf-8"
    body = delivered["raw"].split(b"\r\n\r\n", 1)[1]
    for line in body.split(b"\r\n"):
        assert len(line) <= 76 or line.startswith(b"--"), line
    assert b"=\r\n" in body  # long lines were soft-broken


def test_merge_tags_escaped_in_html_only(delivered):
    text, html = (p.get_content() for p in delivered["msg"].iter_parts())
    assert f"Hi {FIRST} {LAST}," in text
    assert delivered["to"] in text
    assert "Your plan: Pro & <Team>." in text
    assert "Hi Ada &lt;b&gt;&amp; O&#39;Neil," in html
    assert "Ada <b>" not in html
    assert "Your plan: Pro &amp; &lt;Team&gt;." in html
    assert "{{" not in text and "{{" not in html


def test_tracking_links_and_tokens(stack, delivered):
    text, html = (p.get_content() for p in delivered["msg"].iter_parts())
    token = re.search(r"/u/([A-Za-z0-9_-]+)>", str(delivered["msg"]["List-Unsubscribe"])).group(1)
    assert f"{stack.base_url}/u/{token}" in text
    assert f'href="{stack.base_url}/u/{token}"' in html
    pixel = re.search(r'<img src="' + re.escape(stack.base_url) + r'/t/o/([A-Za-z0-9_-]+)"', html)
    assert pixel
    clicks = re.findall(r'href="' + re.escape(stack.base_url) + r'/t/c/([A-Za-z0-9_-]+)"', html)
    assert len(clicks) == 1  # the call to action
    assert "adcraft.example/start" not in html  # the link itself is looked up server-side
    assert "adcraft.example/start" in text      # the text part keeps the plain URL
    for t, kind in ((token, b"u"), (pixel.group(1), b"o"), (clicks[0], b"c")):
        raw = b64url_decode(t)
        assert raw[0] == 1 and raw[1:2] == kind
        assert b"ada" not in raw.lower() and b"example.org" not in raw  # ids only


def test_header_injection_refused(stack):
    before = len(inbox(stack))
    p = mail_test(stack, "--to", "eve@example.org", "--subject", "Hi\r\nBcc: victim@example.com")
    assert p.returncode == 1 and "refused" in p.stderr, (p.returncode, p.stderr)
    p = mail_test(stack, "--to", "eve@example.org\r\nBcc: victim@example.com")
    assert p.returncode == 2, p.stderr
    assert len(inbox(stack)) == before


def test_starttls_required_unless_configured_off(stack):
    """maildev offers no STARTTLS: without starttls=off, nothing goes out in clear."""
    before = len(inbox(stack))
    p = mail_test(stack, "--to", "tls@example.org",
                  env={"ADCRAFT_SMTP_SERVERS": f"smtp://127.0.0.1:{stack.smtp_port}"})
    assert p.returncode == 75, (p.returncode, p.stdout, p.stderr)
    assert "transient" in p.stderr
    assert len(inbox(stack)) == before


def test_connection_refused_is_transient(stack):
    port = free_ports(1)[0]
    p = mail_test(stack, "--to", "nobody@example.org",
                  env={"ADCRAFT_SMTP_SERVERS": f"smtp://127.0.0.1:{port} starttls=off"})
    assert p.returncode == 75, (p.returncode, p.stderr)


def test_cleartext_to_a_remote_host_refused_at_load(stack):
    e = dict(stack.env, ADCRAFT_SMTP_SERVERS="smtp://192.0.2.1:25 starttls=off")
    p = subprocess.run([os.path.join(BUILD_DIR, "adcraft"), "--config", os.path.join(stack.dir, "adcraft.conf"),
                        "check-config"], env=e, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert p.returncode == 1
    assert "loopback" in p.stderr


def test_several_messages_reuse_the_server(stack):
    for i in range(3):
        p = mail_test(stack, "--to", f"batch{i}@example.org")
        assert p.returncode == 0, p.stderr
    for i in range(3):
        msg = email.message_from_bytes(fetch(stack, f"batch{i}@example.org"), policy=email.policy.default)
        assert msg["Subject"] == "Ada, your adcraft test — Grüße ✨"
