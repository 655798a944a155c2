"""Regressions for the crashes a security review found (issue #8, findings 1,
2 and 12): each request used to kill an adcraft-api child or answer with an
unbounded error list. Every case must answer a 4xx problem+json, write
nothing, and leave the same api children alive (no child died and was
replaced)."""

import json

import pytest

from campaign_helpers import Unchanged, User, error_fields, problem


@pytest.fixture(scope="module")
def user(stack):
    return User(stack)


@pytest.fixture(scope="module")
def campaign(user):
    return user.campaign()


class SameChildren:
    """Asserts that no adcraft-api child died during the block."""

    def __init__(self, stack):
        self.stack = stack

    def __enter__(self):
        self.before = self.stack.api_children()
        assert self.before, "no api children found"
        return self

    def __exit__(self, *exc):
        if exc[0] is None:
            assert self.stack.api_children() == self.before, "an adcraft-api child died"
        return False


CRASHING_JSON = [
    "{']]]]][':1}",
    "{'}}}}}}}}}}':1}",
    "{\"email\":'[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[',\"password\":\"x\"}",
    "['a',']]]]]]]]]]]]]]]]']",
]


@pytest.mark.parametrize("body", CRASHING_JSON)
def test_single_quoted_strings_are_400_not_a_crash(stack, body):
    with SameChildren(stack):
        for _ in range(8):  # more attempts than there are children
            r = stack.api("POST", "/api/auth/login", data=body.encode(),
                          headers={"Content-Type": "application/json"})
            problem(r, 400)
            if body.startswith("{'"):  # json-c itself accepts these; our second pass names them
                assert "single-quoted" in r.json()["detail"], r.text


NULL_IN_LISTS = [
    ("POST", "/api/personas", {"name": "x", "interests": [None, "a"]}, "interests[0]"),
    ("POST", "/api/personas", {"name": "x", "painPoints": ["a", None, "a"]}, "painPoints[1]"),
    ("POST", "/api/personas", {"name": "x", "goals": [None, None]}, "goals[0]"),
    ("POST", "/api/personas", {"name": "x", "preferredChannels": [None, "email"]}, "preferredChannels[0]"),
    ("POST", "/api/campaigns", {"name": "x", "objective": "awareness",
                                "generationSettings": {"contentTypes": [None, "email"]}},
     "generationSettings.contentTypes[0]"),
    ("POST", "/api/campaigns", {"name": "x", "objective": "awareness",
                                "generationSettings": {"platforms": ["email", None]}},
     "generationSettings.platforms[1]"),
]


@pytest.mark.parametrize("method,path,body,field", NULL_IN_LISTS)
def test_null_in_a_string_list_is_422_naming_it(stack, user, method, path, body, field):
    with SameChildren(stack), Unchanged(stack, user):
        r = user.req(method, path, json=body)
        problem(r, 422, field)
        assert field in error_fields(r)


@pytest.mark.parametrize("body,field", [
    ({"contentTypes": [None, "email"]}, "contentTypes[0]"),
    ({"platforms": ["email", None, "email"]}, "platforms[1]"),
])
def test_null_in_generate_job_body_is_422(stack, user, campaign, body, field):
    with SameChildren(stack), Unchanged(stack, user):
        r = user.req("POST", f"/api/jobs/campaigns/{campaign['id']}/generate", json=body)
        problem(r, 422, field)


def test_persona_patch_with_null_item(stack, user):
    p = user.persona(interests=["a"])
    with SameChildren(stack), Unchanged(stack, user):
        problem(user.req("PATCH", f"/api/personas/{p['id']}", json={"interests": ["a", None, "a"]}),
                422, "interests[1]")


def test_error_list_is_capped(stack, user):
    """A body just under 1 MiB with ~90k unknown keys: 50 errors listed, the
    rest counted, and the response stays small."""
    keys = {f"k{i:05d}": 1 for i in range(90000)}
    keys["name"] = "x"
    body = json.dumps(keys, separators=(",", ":")).encode()
    assert len(body) < 1 << 20
    with SameChildren(stack), Unchanged(stack, user):
        r = user.req("POST", "/api/personas", data=body, headers={"Content-Type": "application/json"})
        problem(r, 422)
    doc = r.json()
    assert len(r.content) < 16 * 1024, len(r.content)
    assert len(doc["errors"]) == 50
    assert doc["errorsOmitted"] == 90000 - 50
    assert doc["detail"] == "90000 fields are invalid"
