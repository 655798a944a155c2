"""Auth flows through nginx: register, login, me, refresh rotation, reuse, logout,
and every way a token or credential can be wrong."""

import os
import statistics
import threading
import time

import pytest

from helpers import (PASSWORD, RFC3339_UTC_RE, UUID_RE, assert_json, assert_problem,
                     check_request_id, jwt_find_key, jwt_make, jwt_parts, unique_email)


def me_user(body):
    """GET /api/auth/me returns the user; accept it bare or wrapped as {user}."""
    return body["user"] if "user" in body and isinstance(body["user"], dict) else body


def assert_user(u, email=None, name=None):
    assert set(u) >= {"id", "email", "name", "createdAt"}, u
    assert UUID_RE.match(u["id"]), u
    assert RFC3339_UTC_RE.match(u["createdAt"]), u
    if email is not None:
        assert u["email"].lower() == email.lower(), u
    if name is not None:
        assert u["name"] == name, u
    for secret in ("password", "passwordHash", "password_hash", "hash"):
        assert secret not in u, u


def assert_token_pair(b):
    assert isinstance(b["accessToken"], str) and b["accessToken"].count(".") == 2, b
    assert isinstance(b["refreshToken"], str) and len(b["refreshToken"]) >= 20, b
    assert isinstance(b["expiresIn"], int) and b["expiresIn"] == 900, b
    header, payload, _ = jwt_parts(b["accessToken"])
    assert header.get("alg") == "HS256", header
    for claim in ("sub", "exp", "iat", "iss", "aud"):
        assert claim in payload, payload
    assert payload["exp"] - payload["iat"] == 900, payload


# --- register ---------------------------------------------------------------

def test_register_201_shape(stack):
    email = unique_email()
    r = stack.api("POST", "/api/auth/register",
                  json={"email": email, "password": PASSWORD, "name": "Ada Lovelace"})
    b = assert_json(r, 201)
    assert set(b) >= {"user", "accessToken", "refreshToken", "expiresIn"}, b
    assert_user(b["user"], email=email, name="Ada Lovelace")
    assert_token_pair(b)
    assert jwt_parts(b["accessToken"])[1]["sub"] == b["user"]["id"]
    assert stack.scalar("SELECT count(*) FROM users WHERE lower(email) = lower(%s)",
                        (email,)) == 1


def test_register_duplicate_email_case_insensitive_409(stack):
    email = unique_email("Dup")
    stack.register_user(email=email)
    before = stack.user_count()
    for variant in (email, email.upper(), email.lower(), email.swapcase()):
        r = stack.api("POST", "/api/auth/register",
                      json={"email": variant, "password": PASSWORD, "name": "Again"})
        assert_problem(r, 409)
    assert stack.user_count() == before


def test_register_same_email_concurrently_one_wins(stack):
    """Racing registrations of one address: exactly one 201, the rest 409, never a 500."""
    email = unique_email("Race")
    statuses, lock = [], threading.Lock()

    def go(i):
        variant = email.upper() if i % 2 else email
        r = stack.api("POST", "/api/auth/register",
                      json={"email": variant, "password": PASSWORD, "name": f"Racer {i}"})
        with lock:
            statuses.append(r)

    threads = [threading.Thread(target=go, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    codes = sorted(r.status_code for r in statuses)
    assert codes == [201] + [409] * 7, codes
    for r in statuses:
        if r.status_code == 409:
            assert_problem(r, 409)
    assert stack.scalar("SELECT count(*) FROM users WHERE lower(email) = lower(%s)", (email,)) == 1


@pytest.mark.parametrize("password,ok", [
    ("a" * 7, False), ("a" * 8, True), ("a" * 128, True), ("a" * 129, False),
    ("é" * 4, False),    # 8 bytes but 4 characters: too short
    ("é" * 128, True),   # 256 bytes but 128 characters: fine
    ("é" * 129, False),
])
def test_register_password_length(stack, password, ok):
    email = unique_email()
    before = stack.user_count()
    r = stack.api("POST", "/api/auth/register",
                  json={"email": email, "password": password, "name": "Pw"})
    if ok:
        assert_json(r, 201)
        assert stack.user_count() == before + 1
    else:
        assert_problem(r, 422, fields=["password"])
        assert stack.user_count() == before


@pytest.mark.parametrize("email", [
    "not-an-email", "", "@example.com", "a@", "a b@example.com", "a@@example.com",
    "x" * 300 + "@example.com",
])
def test_register_bad_email_422(stack, email):
    before = stack.user_count()
    r = stack.api("POST", "/api/auth/register",
                  json={"email": email, "password": PASSWORD, "name": "Bad Email"})
    assert_problem(r, 422, fields=["email"])
    assert stack.user_count() == before


@pytest.mark.parametrize("body,field", [
    ({"email": "E", "password": PASSWORD}, "name"),
    ({"email": "E", "password": PASSWORD, "name": ""}, "name"),
    ({"email": "E", "password": PASSWORD, "name": "n" * 201}, "name"),
    ({"email": "E", "password": PASSWORD, "name": 42}, "name"),
    ({"email": "E", "password": PASSWORD, "name": None}, "name"),
    ({"password": PASSWORD, "name": "No Email"}, "email"),
    ({"email": "E", "name": "No Password"}, "password"),
    ({"email": "E", "password": 12345678, "name": "Numeric"}, "password"),
])
def test_register_missing_or_invalid_field_422(stack, body, field):
    body = dict(body)
    if body.get("email") == "E":
        body["email"] = unique_email()
    before = stack.user_count()
    r = stack.api("POST", "/api/auth/register", json=body)
    assert_problem(r, 422, fields=[field])
    assert stack.user_count() == before


def test_register_reports_every_invalid_field(stack):
    r = stack.api("POST", "/api/auth/register", json={"email": "nope", "password": "short"})
    assert_problem(r, 422, fields=["email", "password", "name"])


# --- login -------------------------------------------------------------------

def test_login_200(stack):
    user, _, _ = stack.register_user(name="Login Ok")
    r = stack.api("POST", "/api/auth/login", json={"email": user["email"], "password": PASSWORD})
    b = assert_json(r, 200)
    assert set(b) >= {"user", "accessToken", "refreshToken", "expiresIn"}, b
    assert_user(b["user"], email=user["email"], name="Login Ok")
    assert b["user"]["id"] == user["id"]
    assert_token_pair(b)
    me = stack.api("GET", "/api/auth/me", token=b["accessToken"])
    assert me_user(assert_json(me, 200))["id"] == user["id"]


def test_login_email_case_insensitive(stack):
    email = unique_email("Case")
    user, _, _ = stack.register_user(email=email)
    r = stack.api("POST", "/api/auth/login", json={"email": email.upper(), "password": PASSWORD})
    assert assert_json(r, 200)["user"]["id"] == user["id"]


def _strip_request_id(body, rid):
    return {k: v for k, v in body.items() if not (isinstance(v, str) and rid in v)}


def test_login_wrong_password_and_unknown_email_identical_401(stack):
    user, _, _ = stack.register_user()
    wrong = stack.api("POST", "/api/auth/login",
                      json={"email": user["email"], "password": PASSWORD + "x"})
    unknown = stack.api("POST", "/api/auth/login",
                        json={"email": unique_email("nobody"), "password": PASSWORD})
    bw = assert_problem(wrong, 401)
    bu = assert_problem(unknown, 401)
    assert wrong.headers["X-Request-Id"] != unknown.headers["X-Request-Id"]
    assert _strip_request_id(bw, wrong.headers["X-Request-Id"]) == \
        _strip_request_id(bu, unknown.headers["X-Request-Id"])


def test_login_unknown_email_takes_similar_time(stack):
    """No user enumeration by timing: an unknown email costs a password hash too."""
    user, _, _ = stack.register_user()

    def timed(body):
        t = time.perf_counter()
        r = stack.api("POST", "/api/auth/login", json=body)
        dt = time.perf_counter() - t
        assert r.status_code == 401, r.text
        return dt

    wrong, unknown = [], []
    for _ in range(5):
        wrong.append(timed({"email": user["email"], "password": PASSWORD + "x"}))
        unknown.append(timed({"email": unique_email("nobody"), "password": PASSWORD}))
    mw, mu = statistics.median(wrong), statistics.median(unknown)
    assert mw / 3 <= mu <= mw * 3, (mw, mu)


@pytest.mark.parametrize("body,field", [
    ({"password": PASSWORD}, "email"),
    ({"email": "someone@example.com"}, "password"),
    ({"email": "someone@example.com", "password": PASSWORD, "remember": True}, "remember"),
])
def test_login_invalid_body_422(stack, body, field):
    assert_problem(stack.api("POST", "/api/auth/login", json=body), 422, fields=[field])


# --- me and access tokens -------------------------------------------------

def test_me_200(stack):
    user, access, _ = stack.register_user(name="Me Myself")
    r = stack.api("GET", "/api/auth/me", token=access)
    u = me_user(assert_json(r, 200))
    assert_user(u, email=user["email"], name="Me Myself")
    assert u == user


@pytest.mark.parametrize("authorization", [
    None, "", "Bearer", "Bearer ", "Bearer garbage", "Bearer a.b.c",
    "Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.AAAA", "Basic dXNlcjpwYXNz",
    "bearer-ish token",
])
def test_me_without_or_garbage_token_401(stack, authorization):
    headers = {} if authorization is None else {"Authorization": authorization}
    assert_problem(stack.api("GET", "/api/auth/me", headers=headers), 401)


@pytest.fixture(scope="module")
def signed(stack):
    """(claims of a real access token, the server's key bytes, user)."""
    user, access, _ = stack.register_user()
    key = jwt_find_key(stack, access)
    header, claims, _ = jwt_parts(access)
    return header, claims, key, user


def _need_key(signed):
    if signed[2] is None:
        pytest.skip("could not derive the server's JWT key bytes from jwt.key")


def test_self_minted_token_with_server_key_is_accepted(stack, signed):
    """Sanity check for the forged-token tests below: our HS256 is the server's."""
    _need_key(signed)
    header, claims, key, user = signed
    now = int(time.time())
    tok = jwt_make(header, dict(claims, iat=now, exp=now + 300), key)
    assert me_user(assert_json(stack.api("GET", "/api/auth/me", token=tok), 200))["id"] == user["id"]


def test_expired_token_401(stack, signed):
    _need_key(signed)
    header, claims, key, _ = signed
    now = int(time.time())
    tok = jwt_make(header, dict(claims, iat=now - 3600, exp=now - 1800), key)
    assert_problem(stack.api("GET", "/api/auth/me", token=tok), 401)


@pytest.mark.parametrize("mutate", [
    "no_exp", "no_sub", "no_iss", "no_aud", "wrong_iss", "wrong_aud", "sub_not_uuid",
    "sub_unknown_user", "nbf_future", "iat_future",
])
def test_bad_claims_401(stack, signed, mutate):
    _need_key(signed)
    header, claims, key, _ = signed
    now = int(time.time())
    c = dict(claims, iat=now, exp=now + 300)
    if mutate.startswith("no_"):
        c.pop(mutate[3:])
    elif mutate == "wrong_iss":
        c["iss"] = "someone-else"
    elif mutate == "wrong_aud":
        c["aud"] = "someone-else"
    elif mutate == "sub_not_uuid":
        c["sub"] = "not-a-uuid"
    elif mutate == "sub_unknown_user":
        c["sub"] = "00000000-0000-4000-8000-000000000000"
    elif mutate == "nbf_future":
        c["nbf"] = now + 3600
    elif mutate == "iat_future":
        c["iat"] = now + 3600
    tok = jwt_make(header, c, key)
    assert_problem(stack.api("GET", "/api/auth/me", token=tok), 401)


def test_alg_none_401(stack, signed):
    header, claims, _, _ = signed
    now = int(time.time())
    c = dict(claims, iat=now, exp=now + 300)
    for alg in ("none", "None", "NONE"):
        tok = jwt_make({"alg": alg, "typ": "JWT"}, c, key=None)
        assert_problem(stack.api("GET", "/api/auth/me", token=tok), 401)
        # and with the original signature glued on
        assert_problem(stack.api("GET", "/api/auth/me", token=tok + "AAAA"), 401)


def test_token_signed_with_another_key_401(stack, signed):
    header, claims, _, _ = signed
    now = int(time.time())
    tok = jwt_make(header, dict(claims, iat=now, exp=now + 300), os.urandom(32))
    assert_problem(stack.api("GET", "/api/auth/me", token=tok), 401)


def test_token_with_other_hs_alg_and_server_key_401(stack, signed):
    _need_key(signed)
    header, claims, key, _ = signed
    now = int(time.time())
    for alg in ("HS384", "HS512"):
        tok = jwt_make(dict(header, alg=alg), dict(claims, iat=now, exp=now + 300), key, alg=alg)
        assert_problem(stack.api("GET", "/api/auth/me", token=tok), 401)


def test_tampered_payload_401(stack, signed):
    """Put another user's id into a real token's payload, keep its signature."""
    _, _, _, other_user = signed
    _, access, _ = stack.register_user()
    h, p, s = access.split(".")
    claims = jwt_parts(access)[1]
    assert claims["sub"] != other_user["id"]
    forged = jwt_make({"alg": "HS256"}, dict(claims, sub=other_user["id"])).split(".")[1]
    assert forged != p
    assert_problem(stack.api("GET", "/api/auth/me", token=f"{h}.{forged}.{s}"), 401)


def test_oversize_token_refused(stack):
    tok = "eyJhbGciOiJIUzI1NiJ9." + "A" * 9000 + ".AAAA"
    r = stack.api("GET", "/api/auth/me", token=tok)
    assert r.status_code in (400, 401, 431), r.status_code
    assert_problem(r, r.status_code)


def test_refresh_token_is_not_an_access_token(stack):
    _, _, refresh = stack.register_user()
    assert_problem(stack.api("GET", "/api/auth/me", token=refresh), 401)


# --- refresh rotation ---------------------------------------------------

def refresh(stack, token):
    return stack.api("POST", "/api/auth/refresh", json={"refreshToken": token})


def test_refresh_rotates(stack):
    user, access0, r0 = stack.register_user()
    resp = refresh(stack, r0)
    b = assert_json(resp, 200)
    assert_token_pair(b)
    assert b["refreshToken"] != r0
    assert me_user(assert_json(stack.api("GET", "/api/auth/me", token=b["accessToken"]),
                               200))["id"] == user["id"]
    # the used token stops working
    assert_problem(refresh(stack, r0), 401)


def test_refresh_chain_keeps_working(stack):
    _, _, tok = stack.register_user()
    seen = {tok}
    for _ in range(3):
        b = assert_json(refresh(stack, tok), 200)
        tok = b["refreshToken"]
        assert tok not in seen
        seen.add(tok)


def test_refresh_reuse_revokes_family(stack):
    _, _, r0 = stack.register_user()
    r1 = assert_json(refresh(stack, r0), 200)["refreshToken"]
    assert_problem(refresh(stack, r0), 401)   # reuse of a used token
    assert_problem(refresh(stack, r1), 401)   # its whole family is revoked


def test_refresh_reuse_does_not_touch_other_families(stack):
    email = unique_email()
    _, _, a0 = stack.register_user(email=email)
    b0 = assert_json(stack.api("POST", "/api/auth/login",
                               json={"email": email, "password": PASSWORD}), 200)["refreshToken"]
    assert_json(refresh(stack, a0), 200)
    assert_problem(refresh(stack, a0), 401)   # family A revoked
    assert_json(refresh(stack, b0), 200)      # family B (another login) still fine


@pytest.mark.parametrize("body,status,field", [
    ({"refreshToken": "definitely-not-a-token"}, 401, None),
    ({"refreshToken": ""}, None, None),
    ({}, 422, "refreshToken"),
    ({"refreshToken": 42}, 422, "refreshToken"),
    ({"refreshToken": "x", "extra": 1}, 422, "extra"),
])
def test_refresh_bad_input(stack, body, status, field):
    r = stack.api("POST", "/api/auth/refresh", json=body)
    if status is None:  # empty string: either a validation error or just "not a valid token"
        assert r.status_code in (401, 422), r.text
        assert_problem(r, r.status_code)
    else:
        assert_problem(r, status, fields=[field] if field else None)


def test_refresh_with_access_token_refused(stack):
    """An access token is no refresh token: 401, or 422 if it fails the field's length rule."""
    _, access, _ = stack.register_user()
    r = refresh(stack, access)
    assert r.status_code in (401, 422), r.text
    assert_problem(r, r.status_code)


def test_refresh_token_expired_in_db_401(stack):
    user, _, r0 = stack.register_user()
    with stack.db() as conn:
        cols = {row[0] for row in conn.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = 'refresh_tokens'")}
        col = next((c for c in ("expires_at", "expires") if c in cols), None)
        if col is None or "user_id" not in cols:
            pytest.skip(f"refresh_tokens has no expires_at/user_id: {sorted(cols)}")
        also = ", created_at = now() - interval '2 days'" if "created_at" in cols else ""
        n = conn.execute(f"UPDATE refresh_tokens SET {col} = now() - interval '1 second'{also} "
                         "WHERE user_id = %s", (user["id"],)).rowcount
        assert n == 1
    assert_problem(refresh(stack, r0), 401)


def test_refresh_tokens_are_stored_hashed(stack):
    _, _, r0 = stack.register_user()
    with stack.db() as conn:
        rows = conn.execute("SELECT to_jsonb(t)::text FROM refresh_tokens t").fetchall()
    assert rows
    assert not any(r0 in row[0] for row in rows), "refresh token stored in clear"


def test_password_is_stored_hashed_argon2id(stack):
    email = unique_email()
    stack.register_user(email=email)
    with stack.db() as conn:
        row = conn.execute("SELECT to_jsonb(u)::text FROM users u WHERE lower(email) = lower(%s)",
                           (email,)).fetchone()
    assert PASSWORD not in row[0]
    assert "$argon2id$" in row[0]


# --- logout ---------------------------------------------------------------

def test_logout_204_then_refresh_401(stack):
    _, access, r0 = stack.register_user()
    r = stack.api("POST", "/api/auth/logout", json={"refreshToken": r0}, token=access)
    assert r.status_code == 204, r.text
    assert r.content == b""
    check_request_id(r)
    assert_problem(refresh(stack, r0), 401)


def test_logout_requires_bearer_401(stack):
    _, _, r0 = stack.register_user()
    assert_problem(stack.api("POST", "/api/auth/logout", json={"refreshToken": r0}), 401)
    # the token was not revoked by the refused logout
    assert_json(refresh(stack, r0), 200)


def test_logout_after_rotation_revokes_current_token(stack):
    _, access, r0 = stack.register_user()
    b = assert_json(refresh(stack, r0), 200)
    r = stack.api("POST", "/api/auth/logout", json={"refreshToken": b["refreshToken"]},
                  token=b["accessToken"])
    assert r.status_code == 204, r.text
    assert_problem(refresh(stack, b["refreshToken"]), 401)


def test_logout_cannot_revoke_another_users_token(stack):
    _, _, victim_refresh = stack.register_user()
    _, attacker_access, _ = stack.register_user()
    r = stack.api("POST", "/api/auth/logout", json={"refreshToken": victim_refresh},
                  token=attacker_access)
    assert r.status_code in (204, 401, 404), r.text
    assert_json(refresh(stack, victim_refresh), 200)


def test_logout_missing_refresh_token_422(stack):
    _, access, _ = stack.register_user()
    assert_problem(stack.api("POST", "/api/auth/logout", json={}, token=access), 422,
                   fields=["refreshToken"])


def test_refused_auth_requests_write_no_token_rows(stack):
    """Bad bodies on login / refresh / logout change nothing in refresh_tokens."""
    email = unique_email()
    _, access, r0 = stack.register_user(email=email)
    before = stack.scalar("SELECT to_jsonb(array_agg(t ORDER BY id))::text FROM refresh_tokens t")
    bad = [
        ("/api/auth/login", {"email": email, "password": PASSWORD, "extra": 1}, None, 422),
        ("/api/auth/login", {"email": email, "password": PASSWORD + "x"}, None, 401),
        ("/api/auth/refresh", {"refreshToken": r0, "extra": 1}, None, 422),
        ("/api/auth/logout", {"refreshToken": r0, "extra": 1}, access, 422),
    ]
    for path, body, tok, status in bad:
        assert_problem(stack.api("POST", path, json=body, token=tok), status)
    for path, tok in (("/api/auth/login", None), ("/api/auth/refresh", None),
                      ("/api/auth/logout", access)):
        assert_problem(stack.api("POST", path, data=b'{"refreshToken": ', token=tok,
                                 headers={"Content-Type": "application/json"}), 400)
        assert_problem(stack.api("POST", path, data=b"{}", token=tok,
                                 headers={"Content-Type": "text/plain"}), 415)
    after = stack.scalar("SELECT to_jsonb(array_agg(t ORDER BY id))::text FROM refresh_tokens t")
    assert before == after
    assert_json(refresh(stack, r0), 200)
