"""The public endpoints of sent email (issue #11 section 4): the unsubscribe
page and RFC 8058 one-click POST (/u/TOKEN), the open pixel (/t/o/TOKEN), the
click redirect (/t/c/TOKEN) and the signed bounce/complaint webhook
(POST /api/webhooks/email-events), against the real stack.

Tokens are built here in Python from the layout in src/mail/mailtoken.h and
the key file ./dev writes (mail_token_key_file); the sends and recipients
they name are made in SQL (delivery is the worker's part), so every test
knows exactly which rows exist.
"""

import base64
import hashlib
import hmac
import json
import os
import struct
import time
import uuid

import pytest

from campaign_helpers import User
from helpers import RELAXED_LIMITS, Stack, unique_email

CTA_URL = "https://shop.example/spring?utm_source=mail"
PIXEL_GIF = bytes.fromhex("47494638396101000100800000000000ffffff21f90401000000002c00000000010001000002024401003b")


def key(stack, name):
    with open(os.path.join(stack.dir, name)) as f:
        return f.read().rstrip().encode()


def token(stack, kind, recipient, send, contact, link=None, key_bytes=None):
    raw = bytes([1, ord(kind)]) + uuid.UUID(recipient).bytes + uuid.UUID(send).bytes + uuid.UUID(contact).bytes
    if kind == "c":
        raw += struct.pack(">H", link)
    k = key_bytes or key(stack, "mail-token.key")
    raw += hmac.new(k, raw, hashlib.sha256).digest()[:16]
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def sign(stack, body, key_bytes=None):
    k = key_bytes or key(stack, "mail-webhook.key")
    return "sha256=" + hmac.new(k, body, hashlib.sha256).hexdigest()


class Sent:
    """A send of one user's campaign with `n` delivered recipients, made in SQL."""

    def __init__(self, stack, n=2, emails=None):
        self.stack = stack
        self.user = User(stack)
        campaign = self.user.campaign()
        snapshot = {"id": str(uuid.uuid4()), "contentType": "email", "subjectLine": "Spring offer",
                    "preheader": "Ends Friday", "contentBody": "Hello {{firstName}},\n\nOur spring offer.",
                    "callToAction": "Shop now", "ctaUrl": CTA_URL}
        emails = emails or [unique_email("rcpt") for _ in range(n)]
        with stack.db() as c:
            self.send = str(c.execute(
                "INSERT INTO sends (user_id, campaign_id, content_id, status, snapshot, snapshot_hash, from_name,"
                " from_email, approved_at, approved_by)"
                " VALUES (%s, %s, %s, 'sent', %s, repeat('a', 64), 'Shop', 'news@shop.example', now(), %s)"
                " RETURNING id", (self.user.id, campaign["id"], snapshot["id"], json.dumps(snapshot),
                                  self.user.id)).fetchone()[0])
            self.rows = []
            for e in emails:
                contact = str(c.execute("INSERT INTO contacts (user_id, email) VALUES (%s, %s) RETURNING id",
                                        (self.user.id, e)).fetchone()[0])
                msgid = f"<{uuid.uuid4().hex}@shop.example>"
                rid = str(c.execute(
                    "INSERT INTO send_recipients (send_id, contact_id, email, status, sent_at, message_id)"
                    " VALUES (%s, %s, %s, 'sent', now(), %s) RETURNING id",
                    (self.send, contact, e, msgid)).fetchone()[0])
                self.rows.append({"recipient": rid, "contact": contact, "email": e, "messageId": msgid})

    def tok(self, kind, i=0, link=None):
        r = self.rows[i]
        return token(self.stack, kind, r["recipient"], self.send, r["contact"], link)

    def status(self, i=0):
        return self.stack.scalar("SELECT status FROM contacts WHERE id = %s", (self.rows[i]["contact"],))

    def events(self, type_, i=None):
        if i is None:
            return self.stack.scalar("SELECT count(*) FROM email_events WHERE send_id = %s AND type = %s",
                                     (self.send, type_))
        return self.stack.scalar("SELECT count(*) FROM email_events WHERE recipient_id = %s AND type = %s",
                                 (self.rows[i]["recipient"], type_))

    def counts(self):
        r = self.user.req("GET", f"/api/sends/{self.send}")
        assert r.status_code == 200, r.text
        return r.json()["counts"]


def assert_page(r, status):
    assert r.status_code == status, (r.status_code, r.text[:300])
    assert r.headers["Content-Type"] == "text/html; charset=utf-8"
    assert r.text.startswith("<!DOCTYPE html>")
    csp = r.headers["Content-Security-Policy"]
    assert "default-src 'none'" in csp and "frame-ancestors 'none'" in csp
    assert "http" not in r.text  # self-contained: no external asset
    assert r.headers["Cache-Control"] == "no-store"
    assert r.headers["X-Content-Type-Options"] == "nosniff"


def assert_not_found_page(r):
    assert_page(r, 404)
    assert "not valid" in r.text
    for leak in ("problem", "sqlstate", "token", "mailtoken", '"status"', "about:blank"):
        assert leak not in r.text.lower()


def forged_tokens(stack, s):
    r = s.rows[0]
    other = uuid.uuid4().hex.encode() * 2
    good = s.tok("u")
    return [
        "x",
        good[:-1] + ("A" if good[-1] != "A" else "B"),                                  # bad MAC
        token(stack, "u", r["recipient"], s.send, r["contact"], key_bytes=other),       # wrong key
        s.tok("o"),                                                                     # wrong kind
        token(stack, "u", str(uuid.uuid4()), s.send, r["contact"]),                     # no such recipient
        token(stack, "u", r["recipient"], s.send, s.rows[1]["contact"]),                # other contact
        token(stack, "u", r["recipient"], str(uuid.uuid4()), r["contact"]),             # other send
        good + "=",
    ]


# --- unsubscribe ------------------------------------------------------------

def test_unsubscribe_page_has_one_post_button_to_itself(stack):
    s = Sent(stack)
    t = s.tok("u")
    r = stack.api("GET", f"/u/{t}")
    assert_page(r, 200)
    assert r.text.count("<form") == 1 and f'method="post" action="/u/{t}"' in r.text
    assert r.text.count("<button") == 1
    assert "form-action 'self'" in r.headers["Content-Security-Policy"]
    assert "style-src 'sha256-" in r.headers["Content-Security-Policy"]
    # the page itself changes nothing
    assert s.status() == "subscribed" and s.events("unsubscribe") == 0


def test_one_click_unsubscribe_is_idempotent(stack):
    s = Sent(stack)
    t = s.tok("u")
    for _ in range(3):
        r = stack.api("POST", f"/u/{t}", data="List-Unsubscribe=One-Click",
                      headers={"Content-Type": "application/x-www-form-urlencoded"})
        assert_page(r, 200)
        assert "unsubscribed" in r.text
    assert s.status() == "unsubscribed"
    assert s.status(1) == "subscribed"
    assert s.events("unsubscribe", 0) == 1
    assert stack.scalar("SELECT source FROM email_events WHERE recipient_id = %s",
                        (s.rows[0]["recipient"],)) == "one-click"
    assert s.counts()["unsubscribed"] == 1


def test_empty_post_and_page_button_unsubscribe(stack):
    s = Sent(stack)
    r = stack.api("POST", f"/u/{s.tok('u', 0)}")
    assert_page(r, 200)
    r = stack.api("POST", f"/u/{s.tok('u', 1)}", data="confirm=page",
                  headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert_page(r, 200)
    assert (s.status(0), s.status(1)) == ("unsubscribed", "unsubscribed")
    assert stack.scalar("SELECT source FROM email_events WHERE recipient_id = %s",
                        (s.rows[1]["recipient"],)) == "page"
    assert s.counts()["unsubscribed"] == 2


@pytest.mark.parametrize("status", ["bounced", "complained"])
def test_unsubscribe_keeps_a_stronger_suppression(stack, status):
    s = Sent(stack)
    stack.scalar("UPDATE contacts SET status = %s WHERE id = %s RETURNING 1", (status, s.rows[0]["contact"]))
    r = stack.api("POST", f"/u/{s.tok('u')}", data="List-Unsubscribe=One-Click",
                  headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert_page(r, 200)
    assert s.status() == status
    assert s.events("unsubscribe") == 0


def test_bad_tokens_are_a_404_page_that_changes_nothing(stack):
    s = Sent(stack)
    for t in forged_tokens(stack, s):
        for method in ("GET", "POST"):
            r = stack.api(method, f"/u/{t}", data="List-Unsubscribe=One-Click",
                          headers={"Content-Type": "application/x-www-form-urlencoded"})
            assert_not_found_page(r)
    assert (s.status(0), s.status(1)) == ("subscribed", "subscribed")
    assert stack.scalar("SELECT count(*) FROM email_events WHERE send_id = %s", (s.send,)) == 0


def test_unsubscribe_needs_no_bearer_token_and_ignores_one(stack):
    s = Sent(stack)
    r = stack.api("POST", f"/u/{s.tok('u')}", token="not-a-token", data="List-Unsubscribe=One-Click",
                  headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert_page(r, 200)
    assert s.status() == "unsubscribed"


def test_unsubscribe_body_over_the_limit_is_refused(stack):
    s = Sent(stack)
    r = stack.api("POST", f"/u/{s.tok('u')}", data="x" * 5000,
                  headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert r.status_code == 413
    assert s.status() == "subscribed"


# --- tracking ---------------------------------------------------------------

def test_open_pixel_is_a_gif_and_every_open_is_kept(stack):
    s = Sent(stack)
    for _ in range(3):
        r = stack.api("GET", f"/t/o/{s.tok('o')}")
        assert r.status_code == 200
        assert r.headers["Content-Type"] == "image/gif"
        assert r.headers["Cache-Control"] == "no-store"
        assert r.content == PIXEL_GIF
    stack.api("GET", f"/t/o/{s.tok('o', 1)}")
    assert s.events("open") == 4
    c = s.counts()
    assert c["opened"] == 2 and c["clicked"] == 0 and c["unsubscribed"] == 0


def test_open_with_a_bad_token_is_404_and_records_nothing(stack):
    s = Sent(stack)
    for t in ["x", s.tok("u"), s.tok("c", link=0), token(stack, "o", str(uuid.uuid4()), s.send, s.rows[0]["contact"])]:
        r = stack.api("GET", f"/t/o/{t}")
        assert_not_found_page(r)
    assert s.events("open") == 0


def test_click_redirects_to_the_snapshot_link_only(stack):
    s = Sent(stack)
    t = s.tok("c", link=0)
    for path in (f"/t/c/{t}", f"/t/c/{t}?url=https://evil.example/", f"/t/c/{t}?to=https%3A%2F%2Fevil.example"):
        r = stack.api("GET", path, headers={"Referer": "https://evil.example/"})
        assert r.status_code == 302, r.text
        assert r.headers["Location"] == CTA_URL
    stack.api("GET", f"/t/c/{s.tok('c', 1, link=0)}")
    # clicks are recorded after the redirect has been sent
    deadline = time.monotonic() + 10
    while s.events("click") < 4 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert s.events("click") == 4
    assert stack.scalar("SELECT DISTINCT link_index FROM email_events WHERE send_id = %s AND type = 'click'",
                        (s.send,)) == 0
    assert s.counts()["clicked"] == 2


def test_click_outside_the_snapshot_links_or_forged_is_404(stack):
    s = Sent(stack)
    r0 = s.rows[0]
    for t in [s.tok("c", link=1), s.tok("c", link=65535), s.tok("o"),
              token(stack, "c", r0["recipient"], s.send, r0["contact"], 0, key_bytes=b"k" * 64)]:
        r = stack.api("GET", f"/t/c/{t}")
        assert_not_found_page(r)
        assert "Location" not in r.headers
    assert s.events("click") == 0


# --- webhook ----------------------------------------------------------------

def post_events(stack, events, signature=None):
    body = json.dumps({"events": events}).encode()
    return stack.api("POST", "/api/webhooks/email-events", data=body,
                     headers={"Content-Type": "application/json",
                              "X-Adcraft-Signature": signature or sign(stack, body)})


def test_webhook_refuses_a_bad_signature(stack):
    s = Sent(stack)
    events = [{"type": "bounce", "email": s.rows[0]["email"], "at": "2026-12-03T12:00:00Z"}]
    body = json.dumps({"events": events}).encode()
    for sig in (None, "", "sha256=", sign(stack, body, b"w" * 64), sign(stack, body + b" "),
                "sha1=" + "0" * 40, sign(stack, body).upper().replace("SHA256", "sha256") + "0"):
        h = {"Content-Type": "application/json"}
        if sig is not None:
            h["X-Adcraft-Signature"] = sig
        r = stack.api("POST", "/api/webhooks/email-events", data=body, headers=h)
        assert r.status_code == 401, (sig, r.status_code, r.text)
        assert r.headers["Content-Type"] == "application/problem+json"
    assert s.status() == "subscribed"


def test_webhook_bounce_and_complaint_by_message_id_are_kept_apart(stack):
    s = Sent(stack, n=3)
    r = post_events(stack, [
        {"type": "bounce", "email": s.rows[0]["email"].upper(), "messageId": s.rows[0]["messageId"],
         "at": "2026-12-03T12:00:00Z"},
        {"type": "complaint", "email": s.rows[1]["email"], "messageId": s.rows[1]["messageId"].strip("<>"),
         "at": "2026-12-03T12:01:00Z"},
        {"type": "complaint", "email": s.rows[2]["email"], "messageId": "<nothing@shop.example>",
         "at": "2026-12-03T12:02:00Z"},
    ])
    assert r.status_code == 200, r.text
    assert r.json() == {"applied": 2, "unknown": 1}
    assert (s.status(0), s.status(1), s.status(2)) == ("bounced", "complained", "subscribed")
    assert s.events("bounce", 0) == 1 and s.events("complaint", 1) == 1
    assert stack.scalar("SELECT occurred_at = '2026-12-03T12:00:00Z' FROM email_events WHERE recipient_id = %s",
                        (s.rows[0]["recipient"],))
    # the same report again: matched, nothing changes, no second event
    r = post_events(stack, [{"type": "bounce", "email": s.rows[0]["email"], "messageId": s.rows[0]["messageId"],
                             "at": "2026-12-03T12:00:00Z"}])
    assert r.json() == {"applied": 1, "unknown": 0}
    assert s.events("bounce", 0) == 1
    # a bounce never downgrades a complaint
    post_events(stack, [{"type": "bounce", "email": s.rows[1]["email"], "messageId": s.rows[1]["messageId"],
                         "at": "2026-12-03T12:05:00Z"}])
    assert s.status(1) == "complained"


def test_webhook_message_id_must_match_the_address(stack):
    s = Sent(stack)
    r = post_events(stack, [{"type": "complaint", "email": s.rows[1]["email"],
                             "messageId": s.rows[0]["messageId"], "at": "2026-12-03T12:00:00Z"}])
    assert r.json() == {"applied": 0, "unknown": 1}
    assert (s.status(0), s.status(1)) == ("subscribed", "subscribed")


def test_webhook_without_message_id(stack):
    shared = unique_email("shared")
    a, b = Sent(stack, emails=[shared, unique_email()]), Sent(stack, emails=[shared])
    # a third owner has the address as a contact but never sent to it: untouched
    bystander = User(stack)
    other = str(stack.scalar("INSERT INTO contacts (user_id, email) VALUES (%s, %s) RETURNING id",
                             (bystander.id, shared.upper())))
    # a complaint must name its message
    r = post_events(stack, [{"type": "complaint", "email": shared, "at": "2026-12-03T12:00:00Z"}])
    assert r.json() == {"applied": 0, "unknown": 1}
    assert a.status() == "subscribed"
    r = post_events(stack, [{"type": "bounce", "email": shared.upper(), "at": "2026-12-03T12:00:00Z"},
                            {"type": "bounce", "email": unique_email("nobody"), "at": "2026-12-03T12:00:00Z"}])
    assert r.json() == {"applied": 1, "unknown": 1}
    assert (a.status(0), a.status(1), b.status(0)) == ("bounced", "subscribed", "bounced")
    assert stack.scalar("SELECT status FROM contacts WHERE id = %s", (other,)) == "subscribed"
    assert stack.scalar("SELECT count(*) FROM email_events WHERE contact_id IN (%s, %s) AND type = 'bounce'"
                        " AND send_id IS NULL AND source = 'webhook'",
                        (a.rows[0]["contact"], b.rows[0]["contact"])) == 2


def test_webhook_validates_its_body(stack):
    s = Sent(stack)
    ok = {"type": "bounce", "email": s.rows[0]["email"], "messageId": s.rows[0]["messageId"],
          "at": "2026-12-03T12:00:00Z"}
    for events in ([], [dict(ok, type="open")], [dict(ok, type="unsubscribe")], [dict(ok, email="nope")],
                   [dict(ok, at="yesterday")], [{k: v for k, v in ok.items() if k != "at"}], [ok] * 1001,
                   # mass assignment: properties the server sets are refused, never applied
                   [dict(ok, contactId=s.rows[1]["contact"])], [dict(ok, userId=str(uuid.uuid4()))],
                   [dict(ok, status="subscribed")]):
        r = post_events(stack, events)
        assert r.status_code == 422, (events[:1], r.status_code, r.text)
    body = json.dumps({"events": [ok], "userId": str(uuid.uuid4())}).encode()
    r = stack.api("POST", "/api/webhooks/email-events", data=body,
                  headers={"Content-Type": "application/json", "X-Adcraft-Signature": sign(stack, body)})
    assert r.status_code == 422, r.text
    assert (s.status(0), s.status(1)) == ("subscribed", "subscribed")
    ok = {"type": "bounce", "email": unique_email(), "at": "2026-12-03T12:00:00Z"}
    assert post_events(stack, [ok] * 1000).json() == {"applied": 0, "unknown": 1000}


def test_counts_of_a_send_without_events_are_zero(stack):
    s = Sent(stack)
    c = s.counts()
    assert (c["recipients"], c["sent"], c["opened"], c["clicked"], c["unsubscribed"]) == (2, 2, 0, 0, 0)


@pytest.fixture(scope="module")
def stack_without_webhook_key():
    """A stack whose configuration has no mail_webhook_secret_file (the
    environment override empties ./dev's)."""
    with Stack.start({**RELAXED_LIMITS, "ADCRAFT_MAIL_WEBHOOK_SECRET_FILE": ""}) as s:
        yield s


def test_webhook_does_not_exist_without_its_key(stack_without_webhook_key):
    stack = stack_without_webhook_key
    events = [{"type": "bounce", "email": unique_email(), "at": "2026-12-03T12:00:00Z"}]
    body = json.dumps({"events": events}).encode()
    # even signed with the key ./dev wrote (which the API was told not to use)
    for sig in (sign(stack, body), "sha256=" + "0" * 64):
        r = stack.api("POST", "/api/webhooks/email-events", data=body,
                      headers={"Content-Type": "application/json", "X-Adcraft-Signature": sig})
        assert r.status_code == 404, r.text
        assert r.headers["Content-Type"] == "application/problem+json"
    # the rest of the mail endpoints are unaffected
    s = Sent(stack)
    assert stack.api("GET", f"/t/o/{s.tok('o')}").status_code == 200
