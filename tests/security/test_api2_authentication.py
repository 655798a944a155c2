"""OWASP API2:2023 Broken Authentication.

Every forged, expired or misdirected access token is refused with 401 on
every authenticated route of src/api/routes.c (not only /api/auth/me): alg
none, another HMAC alg or an RSA alg in the header, another key, expired, no
exp, nbf in the future, wrong iss/aud, sub of a deleted or never-existing
user, tampered payload, header tricks (kid/jku), the token in the query
string. Refresh tokens: reuse after rotation revokes the family.

Login throttling per account (issue #8 §1.6): after 5 failed logins for one
email within 15 minutes, that email gets 429 with Retry-After from any
address, unknown emails alike; a success resets the count. The tests named
test_account_throttle_* need that feature.
"""

import http.client
import json
import os
import re
import time

import pytest

from api_inventory import routes_c
from helpers import (PASSWORD, assert_json, assert_problem, b64url, jwt_find_key, jwt_make,
                     jwt_parts, unique_email)

GHOST = "00000000-0000-4000-8000-00000000beef"
PROTECTED = [r for r in routes_c() if not r.public]


def concrete(route):
    path = route.path
    for p in route.params:
        path = path.replace(f":{p}", "content-generation" if p == "queue" else GHOST, 1)
    return path


def refused_everywhere(stack, token, what):
    """token is refused with a 401 problem on every authenticated route."""
    bad = []
    for route in PROTECTED:
        r = stack.api(route.method, concrete(route), token=token,
                      json={} if route.body else None)
        if r.status_code != 401:
            bad.append(f"{route.key} -> {r.status_code} {r.text[:200]}")
            continue
        assert_problem(r, 401)
        assert "WWW-Authenticate" not in r.headers or \
            r.headers["WWW-Authenticate"].lower().startswith("bearer"), r.headers
    assert not bad, f"{what} accepted or mishandled:\n" + "\n".join(bad)


@pytest.fixture(scope="module")
def signed(stack):
    """(header, claims, key bytes, user) of a real access token."""
    user, access, _ = stack.register_user()
    key = jwt_find_key(stack, access)
    assert key is not None, "cannot derive the server's JWT key from jwt.key"
    header, claims, _ = jwt_parts(access)
    return header, claims, key, user


def fresh(claims, **changes):
    now = int(time.time())
    c = dict(claims, iat=now, exp=now + 300)
    c.update(changes)
    return c


def test_protected_routes_found():
    assert len(PROTECTED) >= 30, PROTECTED


def test_minted_token_is_accepted_everywhere(stack, signed):
    """Control: a well-formed token we mint with the server's key passes
    authentication on every route, so the refusals below are about the attack."""
    header, claims, key, _ = signed
    tok = jwt_make(header, fresh(claims), key)
    for route in PROTECTED:
        r = stack.api(route.method, concrete(route), token=tok, json={} if route.body else None)
        assert r.status_code != 401, (route.key, r.text)


def test_no_token_401_everywhere(stack):
    refused_everywhere(stack, None, "no token")


def test_alg_none(stack, signed):
    _, claims, _, _ = signed
    for alg in ("none", "None", "NONE", "nOnE"):
        refused_everywhere(stack, jwt_make({"alg": alg, "typ": "JWT"}, fresh(claims)), f"alg {alg}")


@pytest.mark.parametrize("alg", ["HS384", "HS512"])
def test_other_hmac_alg_with_server_key(stack, signed, alg):
    header, claims, key, _ = signed
    refused_everywhere(stack, jwt_make(dict(header, alg=alg), fresh(claims), key, alg=alg), alg)


@pytest.mark.parametrize("alg", ["RS256", "ES256", "PS256", "EdDSA"])
def test_asymmetric_alg_header(stack, signed, alg):
    """Algorithm confusion: an RSA/EC alg in the header over an HMAC-SHA256
    signature with the server's key (what a verifier that trusts the header
    and uses the key as 'public key' would accept)."""
    header, claims, key, _ = signed
    tok = jwt_make(dict(header, alg="HS256"), fresh(claims), key)
    h, p, s = tok.split(".")
    h = b64url(json.dumps(dict(header, alg=alg)).encode())
    refused_everywhere(stack, f"{h}.{p}.{s}", alg)


def test_wrong_key(stack, signed):
    header, claims, _, _ = signed
    for key in (os.urandom(32), b"", b"secret", b"adcraft"):
        refused_everywhere(stack, jwt_make(header, fresh(claims), key), f"key {key[:4]!r}")


@pytest.mark.parametrize("mutation", [
    "expired", "expired_by_a_second", "no_exp", "exp_string", "nbf_future", "iat_future",
    "wrong_iss", "wrong_aud", "aud_list_without_ours", "no_sub", "sub_not_uuid", "sub_null",
])
def test_bad_claims(stack, signed, mutation):
    header, claims, key, _ = signed
    now = int(time.time())
    c = fresh(claims)
    if mutation == "expired":
        c.update(iat=now - 3600, exp=now - 1800)
    elif mutation == "expired_by_a_second":
        c.update(iat=now - 900, exp=now - 1)
    elif mutation == "no_exp":
        del c["exp"]
    elif mutation == "exp_string":
        c["exp"] = str(now + 300)
    elif mutation == "nbf_future":
        c["nbf"] = now + 3600
    elif mutation == "iat_future":
        c["iat"] = now + 3600
    elif mutation == "wrong_iss":
        c["iss"] = c["iss"] + "-evil"
    elif mutation == "wrong_aud":
        c["aud"] = "someone-else"
    elif mutation == "aud_list_without_ours":
        c["aud"] = ["someone-else"]
    elif mutation == "no_sub":
        del c["sub"]
    elif mutation == "sub_not_uuid":
        c["sub"] = "' OR 1=1 --"
    elif mutation == "sub_null":
        c["sub"] = None
    refused_everywhere(stack, jwt_make(header, c, key), mutation)


UUID_RE = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.I)


def holds_records(text):
    """Whether an answer carries any record: every record has a UUID id."""
    return bool(UUID_RE.search(text))


def reaches_nothing_anywhere(stack, token, user_id, what):
    """A signed, unexpired token whose account is gone reaches nothing on any
    route: 401, 404, or 400/422 (bodies are checked before any lookup), or a
    read's 200 that holds no record. Never a write, a 409 or a 5xx. Tokens are
    stateless for 15 minutes (no per-request account lookup on the hot path);
    every statement is scoped to the owner, and a write that meets the owner's
    foreign key answers 401."""
    bad = []
    for route in PROTECTED:
        r = stack.api(route.method, concrete(route), token=token,
                      json={} if route.body else None)
        s = r.status_code
        if s in (401, 404, 400, 422):
            assert_problem(r, s)
            continue
        if s == 200 and route.method == "GET" and not holds_records(r.text):
            continue
        bad.append(f"{route.key} -> {s} {r.text[:200]}")
    assert not bad, f"{what} reached something:\n" + "\n".join(bad)
    with stack.db() as conn:
        for table in ("personas", "campaigns", "jobs", "llm_usage", "llm_reservations", "refresh_tokens"):
            n = conn.execute(f"SELECT count(*) FROM {table} WHERE user_id = %s", (user_id,)).fetchone()[0]
            assert n == 0, f"{what} left {n} rows in {table}"


def test_sub_of_deleted_or_unknown_user_reaches_nothing(stack, signed):
    """A valid, unexpired token of a user whose row is gone (or never was)."""
    header, claims, key, _ = signed
    user, access, _ = stack.register_user()
    assert_json(stack.api("GET", "/api/auth/me", token=access), 200)
    with stack.db() as conn:
        conn.execute("DELETE FROM users WHERE id = %s", (user["id"],))
    assert_problem(stack.api("GET", "/api/auth/me", token=access), 401)
    reaches_nothing_anywhere(stack, access, user["id"], "token of a deleted user")
    reaches_nothing_anywhere(stack, jwt_make(header, fresh(claims, sub=user["id"]), key), user["id"],
                             "minted token of a deleted user")
    reaches_nothing_anywhere(stack, jwt_make(header, fresh(claims, sub=GHOST), key), GHOST,
                             "minted token of a user that never existed")


def test_tampered_payload(stack, signed):
    """Another user's id in a real token's payload, signature kept."""
    _, _, _, victim = signed
    _, access, _ = stack.register_user()
    h, p, s = access.split(".")
    claims = jwt_parts(access)[1]
    forged = b64url(json.dumps(dict(claims, sub=victim["id"])).encode())
    refused_everywhere(stack, f"{h}.{forged}.{s}", "tampered payload")
    # and one flipped bit in the signature
    flipped = s[:-2] + ("A" if s[-2] != "A" else "B") + s[-1]
    refused_everywhere(stack, f"{h}.{p}.{flipped}",
                       "flipped signature")


@pytest.mark.parametrize("extra", [
    {"kid": "../../../../dev/null"}, {"kid": "' UNION SELECT 'x"},
    {"jku": "http://127.0.0.1:1/keys"}, {"x5u": "http://127.0.0.1:1/cert"},
    {"jwk": {"kty": "oct", "k": "AAAA"}}, {"crit": ["exp"]}, {"b64": False, "crit": ["b64"]},
])
def test_header_tricks_with_a_key_of_our_own(stack, signed, extra):
    """Headers that ask the verifier to fetch or pick another key, signed with
    that other key."""
    header, claims, _, _ = signed
    key = b"" if "kid" in extra else b"\x00\x00\x00"
    refused_everywhere(stack, jwt_make(dict(header, **extra), fresh(claims), key), str(extra))


@pytest.mark.parametrize("param", ["access_token", "token", "jwt", "accessToken", "auth"])
def test_token_in_query_string_is_ignored(stack, signed, param):
    _, access, _ = stack.register_user()
    assert_json(stack.api("GET", "/api/auth/me", token=access), 200)
    assert_problem(stack.api("GET", f"/api/auth/me?{param}={access}"), 401)
    assert_problem(stack.api("GET", f"/api/personas?{param}={access}"), 401)


def test_token_in_cookie_is_ignored(stack):
    _, access, _ = stack.register_user()
    for name in ("access_token", "token", "Authorization", "adcraft_token"):
        assert_problem(stack.api("GET", "/api/auth/me", headers={"Cookie": f"{name}={access}"}), 401)


def test_refresh_token_is_not_an_access_token(stack):
    _, _, refresh = stack.register_user()
    refused_everywhere(stack, refresh, "refresh token as bearer")


def test_refresh_reuse_after_rotation_revokes_the_family(stack):
    _, _, r0 = stack.register_user()
    b1 = assert_json(stack.api("POST", "/api/auth/refresh", json={"refreshToken": r0}), 200)
    b2 = assert_json(stack.api("POST", "/api/auth/refresh",
                               json={"refreshToken": b1["refreshToken"]}), 200)
    # the thief replays the first, already rotated token
    assert_problem(stack.api("POST", "/api/auth/refresh", json={"refreshToken": r0}), 401)
    # ... and the legitimate latest one is dead too (family revoked)
    assert_problem(stack.api("POST", "/api/auth/refresh",
                             json={"refreshToken": b2["refreshToken"]}), 401)
    assert_problem(stack.api("POST", "/api/auth/refresh",
                             json={"refreshToken": b1["refreshToken"]}), 401)


def test_refresh_concurrent_double_use_yields_one_pair(stack):
    """Two racing uses of the same refresh token: at most one new pair."""
    import concurrent.futures
    _, _, r0 = stack.register_user()
    with concurrent.futures.ThreadPoolExecutor(8) as ex:
        rs = list(ex.map(lambda _: stack.api("POST", "/api/auth/refresh",
                                             json={"refreshToken": r0}), range(8)))
    ok = [r for r in rs if r.status_code == 200]
    assert len(ok) <= 1, [r.status_code for r in rs]
    assert all(r.status_code in (200, 401) for r in rs), [(r.status_code, r.text) for r in rs]


def test_wrong_password_and_unknown_email_look_alike(stack):
    email = unique_email()
    stack.register_user(email=email)
    r1 = stack.api("POST", "/api/auth/login", json={"email": email, "password": "wrong" * 3})
    r2 = stack.api("POST", "/api/auth/login", json={"email": unique_email(), "password": "wrong" * 3})
    b1, b2 = assert_problem(r1, 401), assert_problem(r2, 401)
    assert (b1["title"], b1["detail"], b1.get("type")) == (b2["title"], b2["detail"], b2.get("type"))


# --- per-account login throttling (issue #8 §1.6) --------------------------------------


def login_from(stack, source_ip, email, password):
    conn = http.client.HTTPConnection("127.0.0.1", stack.port, timeout=30,
                                      source_address=(source_ip, 0))
    try:
        conn.request("POST", "/api/auth/login",
                     body=json.dumps({"email": email, "password": password}),
                     headers={"Content-Type": "application/json"})
        r = conn.getresponse()
        body = r.read().decode("utf-8", "replace")
        return r.status, {k.lower(): v for k, v in r.getheaders()}, body
    finally:
        conn.close()


def assert_throttled(status, headers, body):
    assert status == 429, (status, body)
    assert headers.get("content-type", "").startswith("application/problem+json"), headers
    retry = headers.get("retry-after", "")
    assert retry.isdigit() and 1 <= int(retry) <= 900, f"Retry-After {retry!r}"
    assert json.loads(body)["status"] == 429
    return int(retry)


def test_account_throttle_after_5_failures_from_any_address(stack):
    """Credential stuffing / spraying against one account from many addresses:
    the sixth try within 15 minutes is refused even with the right password."""
    email = unique_email("throttle")
    stack.register_user(email=email)
    for i in range(5):
        status, _, body = login_from(stack, f"127.0.0.{10 + i}", email, f"guess-{i}-password")
        assert status == 401, (i, status, body)
    first = assert_throttled(*login_from(stack, "127.0.0.20", email, PASSWORD))
    second = assert_throttled(*login_from(stack, "127.0.0.21", email, "yet another guess"))
    assert second >= first - 1, (first, second)
    # another account from the same addresses is not affected
    other = unique_email("throttle-other")
    stack.register_user(email=other)
    status, _, body = login_from(stack, "127.0.0.20", other, PASSWORD)
    assert status == 200, body


def test_account_throttle_same_for_unknown_email(stack):
    """Unknown emails are throttled alike, so 429 does not reveal accounts."""
    email = unique_email("nobody")
    for i in range(5):
        status, _, body = login_from(stack, f"127.0.1.{10 + i}", email, f"guess-{i}-password")
        assert status == 401, (i, status, body)
    assert_throttled(*login_from(stack, "127.0.1.20", email, "guess-password"))


def test_account_throttle_is_case_insensitive_on_email(stack):
    email = unique_email("case")
    stack.register_user(email=email)
    for i in range(5):
        variant = email.upper() if i % 2 else email
        status, _, body = login_from(stack, "127.0.2.10", variant, f"guess-{i}-password")
        assert status == 401, (i, status, body)
    assert_throttled(*login_from(stack, "127.0.2.11", email.title(), PASSWORD))


def test_success_resets_the_failure_count(stack):
    email = unique_email("reset")
    stack.register_user(email=email)
    for _ in range(2):
        for i in range(4):
            status, _, body = login_from(stack, "127.0.3.10", email, f"guess-{i}-password")
            assert status == 401, (i, status, body)
        status, _, body = login_from(stack, "127.0.3.10", email, PASSWORD)
        assert status == 200, body


def test_token_of_deleted_user_cannot_write(stack):
    """The writes a deleted user's still-unexpired token could attempt: each is a
    401, not a 2xx and not a 500 from a foreign-key violation."""
    user, access, _ = stack.register_user()
    with stack.db() as conn:
        conn.execute("DELETE FROM users WHERE id = %s", (user["id"],))
        usage_before = conn.execute("SELECT count(*) FROM llm_usage").fetchone()[0]
    for method, path, body in (
            ("POST", "/api/personas", {"name": "ghost"}),
            ("POST", "/api/campaigns", {"name": "ghost", "objective": "awareness"}),
            ("POST", "/api/content/generate-email", {"product": "ghost"}),
            ("POST", "/api/content/batch-generate",
             {"items": [{"contentType": "social_post", "platform": "twitter"}]})):
        r = stack.api(method, path, json=body, token=access, timeout=60)
        assert r.status_code == 401, (method, path, r.status_code, r.text[:300])
    with stack.db() as conn:
        assert conn.execute("SELECT count(*) FROM llm_usage").fetchone()[0] == usage_before
