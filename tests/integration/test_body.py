"""Request body rules, through nginx, on POST /api/auth/register: content type
(415), size (413 from nginx and from the app), strict JSON (400), unknown
fields (422). Every refused request must leave the users table untouched."""

import json
import os
import re

import pytest
import requests

from helpers import PASSWORD, SOURCE_DIR, assert_json, assert_problem, check_request_id, unique_email

PATH = "/api/auth/register"


def valid(email=None, **extra):
    b = {"email": email or unique_email(), "password": PASSWORD, "name": "Body Rules"}
    b.update(extra)
    return b


def raw(body_dict):
    return json.dumps(body_dict).encode()


class NoRow:
    """Asserts that a block wrote no user row (total count and this email)."""

    def __init__(self, stack, email):
        self.stack, self.email = stack, email

    def __enter__(self):
        self.before = self.stack.user_count()
        return self

    def __exit__(self, *exc):
        if exc[0] is None:
            assert self.stack.user_count() == self.before, "a user row was written"
            assert self.stack.scalar("SELECT count(*) FROM users WHERE lower(email) = lower(%s)",
                                     (self.email,)) == 0
        return False


def post_raw(stack, data, ctype="application/json", headers=None):
    h = {} if ctype is None else {"Content-Type": ctype}
    h.update(headers or {})
    return stack.api("POST", PATH, data=data, headers=h)


# --- content type -------------------------------------------------------

@pytest.mark.parametrize("ctype", [
    None, "text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x",
    "application/jsonx", "application/problem+json", "text/json", "",
])
def test_wrong_content_type_415(stack, ctype):
    email = unique_email()
    with NoRow(stack, email):
        assert_problem(post_raw(stack, raw(valid(email)), ctype=ctype), 415)


@pytest.mark.parametrize("ctype", [
    "application/json", "application/json; charset=utf-8", "Application/JSON",
    "application/json;charset=UTF-8",
])
def test_json_content_type_variants_accepted(stack, ctype):
    r = post_raw(stack, raw(valid()), ctype=ctype)
    assert_json(r, 201)


# --- size ---------------------------------------------------------------

def _size(v):
    m = re.fullmatch(r"(\d+)([kKmMgG]?)", v)
    n, unit = int(m.group(1)), m.group(2).lower()
    return n * {"": 1, "k": 1024, "m": 1024 ** 2, "g": 1024 ** 3}[unit]


def nginx_body_limit(stack):
    """client_max_body_size that applies to /api/ (the last one seen in the
    rendered conf or the shared locations), default 1 MiB."""
    texts = [stack.read_file("nginx.conf").decode()]
    for p in ("nginx/locations.conf",):
        try:
            with open(os.path.join(SOURCE_DIR, p)) as f:
                texts.append(f.read())
        except OSError:
            pass
    sizes = [_size(m) for t in texts for m in re.findall(r"client_max_body_size\s+(\w+)\s*;", t)]
    return max(sizes) if sizes else 1024 * 1024


def app_body_limit(stack):
    conf = stack.read_file("adcraft.conf").decode()
    m = re.search(r"^\s*body_limit\s*=\s*\"?(\d+)", conf, re.M)
    env = stack.env.get("ADCRAFT_BODY_LIMIT")
    return int(env or (m.group(1) if m else 1048576))


def body_of_size(n, email):
    """A syntactically valid JSON object of exactly n bytes (name too long -> 422)."""
    head = json.dumps({"email": email, "password": PASSWORD})[:-1] + ', "name": "'
    tail = '"}'
    pad = n - len(head) - len(tail)
    assert pad > 0
    b = (head + "n" * pad + tail).encode()
    assert len(b) == n
    return b


def test_body_over_nginx_limit_413(stack):
    limit = nginx_body_limit(stack)
    email = unique_email()
    with NoRow(stack, email):
        r = post_raw(stack, body_of_size(limit + 1, email))
        assert_problem(r, 413)
        # far over the limit too
        r = post_raw(stack, body_of_size(limit * 3, email))
        assert_problem(r, 413)


def test_body_between_app_and_nginx_limits_413(stack):
    app, ngx = app_body_limit(stack), nginx_body_limit(stack)
    if app >= ngx:
        pytest.skip(f"app body_limit {app} >= nginx client_max_body_size {ngx}: nginx answers")
    email = unique_email()
    with NoRow(stack, email):
        assert_problem(post_raw(stack, body_of_size(app + 1, email)), 413)
        assert_problem(post_raw(stack, body_of_size(min(ngx, app + 4096), email)), 413)


def test_body_at_limit_is_parsed(stack):
    """Exactly the limit is accepted by both layers (and then fails validation)."""
    n = min(app_body_limit(stack), nginx_body_limit(stack))
    email = unique_email()
    with NoRow(stack, email):
        assert_problem(post_raw(stack, body_of_size(n, email)), 422, fields=["name"])


def test_chunked_body_accepted(stack):
    """A chunked request (no Content-Length) is read in full."""
    email = unique_email()
    data = raw(valid(email))

    def gen():
        yield data[:10]
        yield data[10:]

    r = requests.post(stack.url(PATH), data=gen(), headers={"Content-Type": "application/json"},
                      timeout=30)
    check_request_id(r)
    assert_json(r, 201)


def test_chunked_body_over_limit_413(stack):
    email = unique_email()
    limit = nginx_body_limit(stack)
    big = body_of_size(limit + 64 * 1024, email)

    def gen():
        for i in range(0, len(big), 65536):
            yield big[i:i + 65536]

    with NoRow(stack, email):
        try:
            r = requests.post(stack.url(PATH), data=gen(),
                              headers={"Content-Type": "application/json"}, timeout=30)
        except requests.ConnectionError:
            pytest.fail("nginx reset the connection instead of answering 413")
        assert_problem(r, 413)


# --- strict JSON ----------------------------------------------------------

def _obj(email, rest='"password": "%s", "name": "x"' % PASSWORD):
    return '{"email": "%s", %s}' % (email, rest)


MALFORMED = {
    "empty": lambda e: b"",
    "not_json": lambda e: b"hello",
    "truncated": lambda e: _obj(e).encode()[:-3],
    "single_quotes": lambda e: _obj(e).replace('"', "'").encode(),
    "trailing_comma": lambda e: _obj(e)[:-1].encode() + b",}",
    "unquoted_key": lambda e: ('{email: "%s"}' % e).encode(),
    "comment": lambda e: (_obj(e)[:-1] + "/* hi */}").encode(),
    "nan": lambda e: _obj(e, '"password": NaN, "name": "x"').encode(),
    "infinity": lambda e: _obj(e, '"password": Infinity, "name": "x"').encode(),
    "minus_infinity": lambda e: _obj(e, '"password": -Infinity, "name": "x"').encode(),
    "hex_number": lambda e: _obj(e, '"password": 0x10, "name": "x"').encode(),
    "plus_number": lambda e: _obj(e, '"password": +1, "name": "x"').encode(),
    "tab_in_string": lambda e: _obj(e, '"password": "%s\t", "name": "x"' % PASSWORD).encode(),
    "control_char_in_string": lambda e: _obj(e, '"password": "%s\x01", "name": "x"' % PASSWORD).encode(),
    "bad_escape": lambda e: _obj(e, '"password": "%s\\q", "name": "x"' % PASSWORD).encode(),
    "leading_zero": lambda e: _obj(e, '"password": "%s", "name": 012' % PASSWORD).encode(),
}


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_malformed_json_400(stack, case):
    email = unique_email()
    with NoRow(stack, email):
        assert_problem(post_raw(stack, MALFORMED[case](email)), 400)


def test_duplicate_keys_400(stack):
    email = unique_email()
    other = unique_email()
    with NoRow(stack, email), NoRow(stack, other):
        body = ('{"email": "%s", "password": "%s", "name": "x", "email": "%s"}'
                % (email, PASSWORD, other)).encode()
        assert_problem(post_raw(stack, body), 400)
        body = ('{"email": "%s", "password": "%s", "name": "a", "name": "a"}'
                % (email, PASSWORD)).encode()
        assert_problem(post_raw(stack, body), 400)


def test_duplicate_keys_nested_400(stack):
    email = unique_email()
    with NoRow(stack, email):
        body = ('{"email": "%s", "password": "%s", "name": "x", "meta": {"a": 1, "a": 2}}'
                % (email, PASSWORD)).encode()
        assert_problem(post_raw(stack, body), 400)


@pytest.mark.parametrize("garbage", [b" x", b"{}", b"]", b",", b"\x00", b"\n\n{\"a\":1}", b"null"])
def test_trailing_garbage_400(stack, garbage):
    email = unique_email()
    with NoRow(stack, email):
        assert_problem(post_raw(stack, raw(valid(email)) + garbage), 400)


def test_trailing_whitespace_is_fine(stack):
    assert_json(post_raw(stack, raw(valid()) + b" \r\n\t\n"), 201)


@pytest.mark.parametrize("bad", [
    b"\xff", b"\xc0\xaf",          # never valid; overlong '/'
    b"\xed\xa0\x80",               # UTF-16 surrogate encoded in UTF-8
    b"\xe2\x82",                   # truncated 3-byte sequence
    b"\xf4\x90\x80\x80",           # above U+10FFFF
    b"\x80",                       # lone continuation byte
])
def test_invalid_utf8_400(stack, bad):
    email = unique_email()
    with NoRow(stack, email):
        body = ('{"email": "%s", "password": "%s", "name": "ab' % (email, PASSWORD)).encode() \
            + bad + b'cd"}'
        assert_problem(post_raw(stack, body), 400)


@pytest.mark.parametrize("doc,detail", [
    (b"null", "must be a JSON object"), (b"true", "must be a JSON object"), (b"123", "must be a JSON object"),
    (b'{"email":"a@b.io","password":"x","name":1.}', "malformed number"),
    (b'{"email":"a@b.io","password":"x","name":01}', "number"),
])
def test_scalars_and_malformed_numbers_400(stack, doc, detail):
    """A bare scalar said "unexpected end of document" (json-c waited for a byte to end it) and json-c
    took 1. and 01 as numbers: each is 400 saying what it is."""
    prob = assert_problem(post_raw(stack, doc), 400)
    assert detail in prob["detail"], prob


@pytest.mark.parametrize("escape", [b"\\ud800", b"\\udfff\\ud800x", b"\\ud83d"])
def test_unpaired_surrogate_escape_400(stack, escape):
    """json-c turned an unpaired surrogate escape into U+FFFD and the account was stored with it."""
    email = unique_email()
    with NoRow(stack, email):
        body = ('{"email": "%s", "password": "%s", "name": "ab' % (email, PASSWORD)).encode() + escape + b'cd"}'
        prob = assert_problem(post_raw(stack, body), 400)
        assert "surrogate" in prob["detail"], prob


def test_surrogate_pair_escape_roundtrips(stack):
    body = json.dumps(valid(name="Launch \U0001F680"), ensure_ascii=True).encode()
    assert b"\\ud83d\\ude80" in body
    assert assert_json(post_raw(stack, body), 201)["user"]["name"] == "Launch \U0001F680"


def test_invalid_utf8_in_key_400(stack):
    email = unique_email()
    with NoRow(stack, email):
        body = ('{"email": "%s", "password": "%s", "name": "x", "' % (email, PASSWORD)).encode() \
            + b"\xff\xfe" + b'": 1}'
        assert_problem(post_raw(stack, body), 400)


def test_valid_utf8_name_roundtrips(stack):
    name = "Zoë Ångström 日本語 🚀"
    r = post_raw(stack, json.dumps(valid(name=name), ensure_ascii=False).encode())
    assert assert_json(r, 201)["user"]["name"] == name


def test_nul_in_string_is_not_a_500(stack):
    """PostgreSQL text cannot hold U+0000: refuse it as bad input (400/422), never 500."""
    email = unique_email()
    with NoRow(stack, email):
        r = post_raw(stack, raw(valid(email, name="a\u0000b")))
        assert r.status_code in (400, 422), r.text
        assert_problem(r, r.status_code)


def nested(depth):
    """An object whose nesting depth is `depth` (the outer object counts as 1):
    {"email":..., "name": [[...]]} with depth-1 arrays."""
    return "[" * (depth - 1) + "]" * (depth - 1)


def test_depth_33_400(stack):
    email = unique_email()
    with NoRow(stack, email):
        body = ('{"email": "%s", "password": "%s", "name": %s}'
                % (email, PASSWORD, nested(33))).encode()
        assert_problem(post_raw(stack, body), 400)


def test_depth_32_parses_then_422(stack):
    email = unique_email()
    with NoRow(stack, email):
        body = ('{"email": "%s", "password": "%s", "name": %s}'
                % (email, PASSWORD, nested(32))).encode()
        assert_problem(post_raw(stack, body), 422, fields=["name"])


def test_very_deep_400(stack):
    email = unique_email()
    with NoRow(stack, email):
        body = ('{"email": "%s", "name": ' % email).encode() + b"[" * 100000 + b"]" * 100000 + b"}"
        assert_problem(post_raw(stack, body), 400)
        body = ('{"email": "%s", "name": ' % email).encode() + b"[" * 200000
        assert_problem(post_raw(stack, body), 400)


@pytest.mark.parametrize("top", [b"[]", b"null", b"42", b'"str"', b"true"])
def test_top_level_not_object(stack, top):
    r = post_raw(stack, top)
    assert r.status_code in (400, 422), r.text
    assert_problem(r, r.status_code)


# --- unknown fields -------------------------------------------------------

def test_unknown_field_422_naming_it(stack):
    email = unique_email()
    with NoRow(stack, email):
        r = post_raw(stack, raw(valid(email, role="admin")))
        assert_problem(r, 422, fields=["role"])
        r = post_raw(stack, raw(valid(email, id="00000000-0000-4000-8000-000000000000",
                                      createdAt="2020-01-01T00:00:00Z")))
        assert_problem(r, 422, fields=["id", "createdAt"])


def test_unknown_field_with_otherwise_invalid_body(stack):
    email = unique_email()
    with NoRow(stack, email):
        r = post_raw(stack, raw({"email": email, "isAdmin": True}))
        assert_problem(r, 422, fields=["isAdmin"])
