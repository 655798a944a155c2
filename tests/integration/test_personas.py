"""Personas (issue #3) through nginx: CRUD success paths, every validation
rule (422 naming the field, nothing written), mass assignment, list paging and
query rules, ownership between two users on every verb, DELETE while in use."""

import threading
import uuid

import pytest

from campaign_helpers import Unchanged, User, error_fields, json_body, problem, q, row
from helpers import RFC3339_UTC_RE, UUID_RE

CHANNELS = ["email", "linkedin", "twitter", "facebook", "instagram", "google_ads"]


@pytest.fixture(scope="module")
def alice(stack):
    return User(stack, "Alice")


@pytest.fixture(scope="module")
def bob(stack):
    return User(stack, "Bob")


@pytest.fixture
def fresh(stack):
    """A user with no personas yet, for tests that look at a whole list."""
    return User(stack, "Fresh")


FULL = {
    "name": "Busy founder",
    "description": "Runs a 10-person startup; reads on the phone.",
    "ageRange": "25-34",
    "gender": "any",
    "location": "Berlin",
    "occupation": "Founder",
    "interests": ["productivity", "saas"],
    "painPoints": ["no time"],
    "goals": ["grow revenue", "hire"],
    "preferredChannels": ["linkedin", "email"],
}

DEFAULTS = {"description": "", "ageRange": None, "gender": None, "location": None,
            "occupation": None, "interests": [], "painPoints": [], "goals": [],
            "preferredChannels": []}


def check_persona_row(stack, p, user_id):
    """The DB row holds exactly what the API returned."""
    r = row(stack, "personas", p["id"])
    assert r is not None
    assert r["user_id"] == user_id
    assert r["name"] == p["name"]
    assert r["description"] == p["description"]
    assert r["age_range"] == p["ageRange"]
    assert r["gender"] == p["gender"]
    assert r["location"] == p["location"]
    assert r["occupation"] == p["occupation"]
    assert r["interests"] == p["interests"]
    assert r["pain_points"] == p["painPoints"]
    assert r["goals"] == p["goals"]
    assert r["preferred_channels"] == p["preferredChannels"]


# --- success paths ------------------------------------------------------

def test_persona_crud(stack, fresh):
    alice = fresh
    r = alice.req("POST", "/api/personas", json=FULL)
    p = json_body(r, 201)
    assert set(p) == {"id", "name", "description", "ageRange", "gender", "location", "occupation",
                      "interests", "painPoints", "goals", "preferredChannels", "createdAt", "updatedAt"}
    assert UUID_RE.match(p["id"])
    for k, v in FULL.items():
        assert p[k] == v, k
    assert RFC3339_UTC_RE.match(p["createdAt"]) and p["createdAt"] == p["updatedAt"]
    check_persona_row(stack, p, alice.id)

    got = json_body(alice.req("GET", f"/api/personas/{p['id']}"), 200)
    assert got == p

    lst = json_body(alice.req("GET", "/api/personas"), 200)
    assert lst["nextCursor"] is None
    assert [x["id"] for x in lst["items"]] == [p["id"]]
    assert lst["items"][0] == p

    # PATCH changes only the given fields
    patched = json_body(alice.req("PATCH", f"/api/personas/{p['id']}",
                                  json={"gender": "female", "goals": ["exit"]}), 200)
    expect = dict(p, gender="female", goals=["exit"])
    for k in FULL:
        assert patched[k] == expect[k], k
    assert patched["createdAt"] == p["createdAt"]
    assert patched["updatedAt"] > p["updatedAt"]
    check_persona_row(stack, patched, alice.id)

    # PUT replaces: absent optional fields go back to defaults
    put = json_body(alice.req("PUT", f"/api/personas/{p['id']}",
                              json={"name": "Renamed", "location": "Paris"}), 200)
    assert put["name"] == "Renamed" and put["location"] == "Paris"
    for k, v in DEFAULTS.items():
        if k != "location":
            assert put[k] == v, k
    assert put["id"] == p["id"] and put["createdAt"] == p["createdAt"]
    check_persona_row(stack, put, alice.id)

    # empty PATCH is a no-op that still answers the persona
    same = json_body(alice.req("PATCH", f"/api/personas/{p['id']}", json={}), 200)
    for k in FULL:
        assert same[k] == put[k]

    r = alice.req("DELETE", f"/api/personas/{p['id']}")
    assert r.status_code == 204, r.text
    assert r.content == b""
    assert row(stack, "personas", p["id"]) is None
    problem(alice.req("GET", f"/api/personas/{p['id']}"), 404)
    problem(alice.req("DELETE", f"/api/personas/{p['id']}"), 404)


def test_persona_minimal_defaults_and_null_description(stack, alice):
    p = json_body(alice.req("POST", "/api/personas", json={"name": "N", "description": None}), 201)
    for k, v in DEFAULTS.items():
        assert p[k] == v, k
    check_persona_row(stack, p, alice.id)


def test_persona_limits_accepted(stack, alice):
    body = {"name": "é" * 200, "description": "d" * 5000, "ageRange": "a" * 50, "gender": "g" * 50,
            "location": "l" * 200, "occupation": "o" * 200,
            "interests": ["i" * 200] + [f"x{i}" for i in range(49)],
            "painPoints": [f"p{i}" for i in range(50)], "goals": [],
            "preferredChannels": CHANNELS}
    p = json_body(alice.req("POST", "/api/personas", json=body), 201)
    for k, v in body.items():
        assert p[k] == v, k
    check_persona_row(stack, p, alice.id)


# --- validation ---------------------------------------------------------

INVALID = [
    ({"description": "x"}, {"name"}),
    ({"name": ""}, {"name"}),
    ({"name": None}, {"name"}),
    ({"name": 5}, {"name"}),
    ({"name": "x" * 201}, {"name"}),
    ({"description": "d" * 5001}, {"description"}),
    ({"description": 3}, {"description"}),
    ({"ageRange": "a" * 51}, {"ageRange"}),
    ({"gender": "g" * 51}, {"gender"}),
    ({"location": "l" * 201}, {"location"}),
    ({"occupation": "o" * 201}, {"occupation"}),
    ({"interests": "music"}, {"interests"}),
    ({"interests": [f"i{i}" for i in range(51)]}, {"interests"}),
    ({"interests": ["a", "a"]}, {"interests[1]"}),
    ({"interests": [""]}, {"interests[0]"}),
    ({"interests": ["x" * 201]}, {"interests[0]"}),
    ({"interests": [7]}, {"interests[0]"}),
    ({"painPoints": [f"p{i}" for i in range(51)]}, {"painPoints"}),
    ({"painPoints": ["ok", ""]}, {"painPoints[1]"}),
    ({"painPoints": ["dup", "dup"]}, {"painPoints[1]"}),
    ({"goals": ["g" * 201]}, {"goals[0]"}),
    ({"goals": ["a", "b", "a"]}, {"goals[2]"}),
    ({"goals": {"a": 1}}, {"goals"}),
    ({"preferredChannels": ["tiktok"]}, {"preferredChannels[0]"}),
    ({"preferredChannels": ["email", "email"]}, {"preferredChannels[1]"}),
    ({"preferredChannels": "email"}, {"preferredChannels"}),
    ({"unknownThing": 1}, {"unknownThing"}),
    # several bad fields at once: all listed
    ({"name": "", "ageRange": "a" * 51, "interests": ["a", "a"], "preferredChannels": ["fax"], "zz": 1},
     {"name", "ageRange", "interests[1]", "preferredChannels[0]", "zz"}),
]


def _ids(cases):
    return [",".join(sorted(f)) + f"-{i}" for i, (_, f) in enumerate(cases)]


@pytest.mark.parametrize("patch,fields", INVALID, ids=_ids(INVALID))
def test_persona_create_invalid(stack, alice, patch, fields):
    body = {"name": "Valid"}
    body.update(patch)
    if "name" in fields and "description" in patch and len(patch) == 1:
        body.pop("name")  # the "name is required" case
    with Unchanged(stack, alice):
        r = alice.req("POST", "/api/personas", json=body)
        problem(r, 422, *fields)
        assert error_fields(r) == fields


@pytest.mark.parametrize("patch,fields", [c for c in INVALID if c[0] != {"description": "x"}],
                         ids=_ids([c for c in INVALID if c[0] != {"description": "x"}]))
def test_persona_patch_invalid(stack, alice, patch, fields):
    p = alice.persona(**FULL)
    with Unchanged(stack, alice):
        r = alice.req("PATCH", f"/api/personas/{p['id']}", json=patch)
        problem(r, 422, *fields)
        assert error_fields(r) == fields


@pytest.mark.parametrize("body,fields", [
    ({"description": "only"}, {"name"}),
    ({"name": "x", "interests": ["a", "a"]}, {"interests[1]"}),
    ({"name": "x", "preferredChannels": ["sms"]}, {"preferredChannels[0]"}),
    ({"name": "x" * 201, "gender": "g" * 51}, {"name", "gender"}),
])
def test_persona_put_invalid(stack, alice, body, fields):
    p = alice.persona(**FULL)
    with Unchanged(stack, alice):
        r = alice.req("PUT", f"/api/personas/{p['id']}", json=body)
        problem(r, 422, *fields)
        assert error_fields(r) == fields


@pytest.mark.parametrize("field,value", [
    ("id", str(uuid.uuid4())), ("userId", str(uuid.uuid4())),
    ("createdAt", "2020-01-01T00:00:00Z"), ("updatedAt", "2020-01-01T00:00:00Z"),
])
@pytest.mark.parametrize("verb", ["POST", "PUT", "PATCH"])
def test_persona_mass_assignment(stack, alice, bob, verb, field, value):
    p = alice.persona(**FULL)
    if field == "userId":
        value = bob.id
    path = "/api/personas" if verb == "POST" else f"/api/personas/{p['id']}"
    with Unchanged(stack, alice, bob):
        r = alice.req(verb, path, json={"name": "Hijack", field: value})
        problem(r, 422, field)
        assert error_fields(r) == {field}


# --- list ---------------------------------------------------------------

def test_persona_list_pages_newest_first(stack, fresh, bob):
    alice = fresh
    mine = [alice.persona(name=f"P{i}")["id"] for i in range(5)]
    bob.persona(name="not alice's")
    seen, cursor, pages = [], None, 0
    while True:
        path = "/api/personas?limit=2" + (f"&cursor={cursor}" if cursor else "")
        page = json_body(alice.req("GET", path), 200)
        pages += 1
        assert len(page["items"]) <= 2
        seen += [x["id"] for x in page["items"]]
        cursor = page["nextCursor"]
        if cursor is None:
            break
        assert pages < 10
    expect = [str(r[0]) for r in q(
        stack, "SELECT id FROM personas WHERE user_id = %s ORDER BY created_at DESC, id DESC",
        (alice.id,))]
    assert seen == expect
    assert set(seen) == set(mine)
    assert pages == 3


@pytest.mark.parametrize("query", [
    "limit=0", "limit=101", "limit=abc", "limit=-1", "limit=", "limit=1.5",
    "cursor=zzz", "cursor=", "cursor=%00%01", "foo=1", "limit=1&limit=2", "status=draft",
])
def test_persona_list_bad_query_400(stack, alice, query):
    alice.persona()
    problem(alice.req("GET", f"/api/personas?{query}"), 400)


def test_persona_list_limit_bounds_ok(stack, fresh):
    alice = fresh
    alice.persona()
    assert len(json_body(alice.req("GET", "/api/personas?limit=1"), 200)["items"]) == 1
    assert len(json_body(alice.req("GET", "/api/personas?limit=100"), 200)["items"]) == 1


# --- ownership ----------------------------------------------------------

def test_persona_ownership_every_verb(stack, alice, bob):
    p = alice.persona(**FULL)
    pid = p["id"]
    ghost = str(uuid.uuid4())
    before = row(stack, "personas", pid)
    with Unchanged(stack, alice, bob):
        for verb, body in (("GET", None), ("PUT", {"name": "Mine now"}),
                           ("PATCH", {"name": "Mine now"}), ("DELETE", None)):
            r = bob.req(verb, f"/api/personas/{pid}", json=body)
            b = problem(r, 404)
            # indistinguishable from an id that does not exist at all
            r2 = bob.req(verb, f"/api/personas/{ghost}", json=body)
            b2 = problem(r2, 404)
            assert b["detail"] == b2["detail"], (verb, b, b2)
        lst = json_body(bob.req("GET", "/api/personas"), 200)
        assert pid not in [x["id"] for x in lst["items"]]
    assert row(stack, "personas", pid) == before
    # and alice still sees it as it was
    assert json_body(alice.req("GET", f"/api/personas/{pid}"), 200) == p


@pytest.mark.parametrize("pid", ["not-a-uuid", "12345", str(uuid.uuid4()).upper()[:-1] + "G"])
def test_persona_non_uuid_path_404(stack, alice, pid):
    alice.persona()
    with Unchanged(stack, alice):
        for verb, body in (("GET", None), ("PATCH", {"name": "x"}), ("PUT", {"name": "x"}),
                           ("DELETE", None)):
            problem(alice.req(verb, f"/api/personas/{pid}", json=body), 404)


@pytest.mark.parametrize("verb,path,body", [
    ("GET", "/api/personas", None), ("POST", "/api/personas", {"name": "x"}),
    ("GET", "/api/personas/{id}", None), ("PUT", "/api/personas/{id}", {"name": "x"}),
    ("PATCH", "/api/personas/{id}", {"name": "x"}), ("DELETE", "/api/personas/{id}", None),
])
def test_persona_requires_token(stack, alice, verb, path, body):
    p = alice.persona()
    with Unchanged(stack, alice):
        problem(stack.api(verb, path.format(id=p["id"]), json=body), 401)


# --- delete while in use ------------------------------------------------

def test_persona_delete_in_use_409(stack, alice):
    p = alice.persona(**FULL)
    c = alice.campaign(personaId=p["id"])
    with Unchanged(stack, alice):
        problem(alice.req("DELETE", f"/api/personas/{p['id']}"), 409)
    # a second campaign still using it after the first lets go
    c2 = alice.campaign(personaId=p["id"])
    json_body(alice.req("PATCH", f"/api/campaigns/{c['id']}", json={"personaId": None}), 200)
    with Unchanged(stack, alice):
        problem(alice.req("DELETE", f"/api/personas/{p['id']}"), 409)
    r = alice.req("DELETE", f"/api/campaigns/{c2['id']}")
    assert r.status_code == 204
    r = alice.req("DELETE", f"/api/personas/{p['id']}")
    assert r.status_code == 204, r.text
    assert row(stack, "personas", p["id"]) is None
    assert row(stack, "campaigns", c["id"])["persona_id"] is None


def test_persona_delete_races_attach(stack, fresh):
    """A DELETE racing a PATCH that attaches the persona: exactly one wins
    (204 + 422 personaId, or 409 + 200) and the rows agree with the answers."""
    u = fresh
    c = u.campaign(name="Racer")
    outcomes = set()
    for _ in range(8):
        p = u.persona(name="Contested")
        barrier = threading.Barrier(2)
        res = {}

        def attach():
            barrier.wait()
            res["patch"] = u.req("PATCH", f"/api/campaigns/{c['id']}", json={"personaId": p["id"]})

        def delete():
            barrier.wait()
            res["delete"] = u.req("DELETE", f"/api/personas/{p['id']}")

        ts = [threading.Thread(target=attach), threading.Thread(target=delete)]
        for t in ts:
            t.start()
        for t in ts:
            t.join(30)
        pc, dc = res["patch"].status_code, res["delete"].status_code
        persona_row = row(stack, "personas", p["id"])
        campaign_persona = row(stack, "campaigns", c["id"])["persona_id"]
        if dc == 204:
            assert pc == 422, (pc, res["patch"].text)
            assert error_fields(res["patch"]) == {"personaId"}
            assert persona_row is None
        else:
            assert (dc, pc) == (409, 200), (dc, res["delete"].text, pc, res["patch"].text)
            assert persona_row is not None and campaign_persona == p["id"]
            json_body(u.req("PATCH", f"/api/campaigns/{c['id']}", json={"personaId": None}), 200)
            assert u.req("DELETE", f"/api/personas/{p['id']}").status_code == 204
        outcomes.add(dc)
        assert row(stack, "campaigns", c["id"])["persona_id"] in (None, p["id"])
