"""Brand voice profiles (issue #10 section 1) through nginx: CRUD with versions,
validation (422, nothing written), ownership (404 for another user's profile,
422 for a campaign pointing at one), 409 on deleting a profile in use, and the
profile held in every item produced: builtin sync generation and a builtin
generation job (disclaimers present, no forbidden term or competitor), an LLM
answer with a forbidden term repaired by the model once, else replaced, and
manual content (422 naming the term, or stored with allowBrandViolations)."""

import re
import uuid

import pytest

from generation_helpers import ALL_PAIRS, GenUser, is_problem, limit_violations, stored_content, \
    system_text, user_text
from helpers import RELAXED_LIMITS, Stack, assert_json, assert_problem

DISCLAIMER = "Terms apply."
EMAIL_DISCLAIMER = "Unsubscribe anytime."
FORBIDDEN = ["cheap", "guaranteed"]
COMPETITORS = ["Trello", "Monday.com"]

PROFILE = {
    "name": "Acme voice",
    "description": "How Acme Planner sounds everywhere.",
    "voice": "Plain, warm and confident. Short sentences.",
    "formality": 2,
    "emojiPolicy": "none",
    "readingLevel": {"maxGrade": 8},
    "preferredTerms": [{"term": "affordable", "replaces": ["cheap", "inexpensive"]},
                       {"term": "customers", "replaces": ["clients"]}],
    "forbiddenTerms": FORBIDDEN,
    "competitors": COMPETITORS,
    "requiredDisclaimers": [{"text": DISCLAIMER},
                            {"text": EMAIL_DISCLAIMER, "contentTypes": ["email"]}],
    "examples": ["Your week, planned in five minutes."],
}

# Copy the builtin generator builds from: the banned words are in the brief.
DIRTY_BRIEF = {"description": "Acme Planner: the cheap planner for clients who outgrew Trello.",
               "keywords": "cheap planner, Trello alternative", "tone": "friendly"}


@pytest.fixture(scope="module")
def stack():
    with Stack.start(RELAXED_LIMITS) as s:
        yield s


@pytest.fixture
def alice(stack):
    return GenUser(stack, "Alice")


@pytest.fixture
def bob(stack):
    return GenUser(stack, "Bob")


def create(user, **fields):
    body = dict(PROFILE)
    body.update(fields)
    return assert_json(user.post("/api/brand-profiles", body), 201)


def text_of(item):
    return "\n".join(filter(None, [item.get("subjectLine"), item.get("preheader"), item.get("contentBody"),
                                   item.get("callToAction"), "\n".join(item.get("headlines") or []),
                                   "\n".join(item.get("descriptions") or []),
                                   " ".join(item.get("hashtags") or [])]))


def banned_in(text):
    """Forbidden terms and competitors present as whole words, case-insensitive."""
    return [t for t in FORBIDDEN + COMPETITORS + ["clients"]
            if re.search(r"(?<![\w#])" + re.escape(t) + r"(?!\w)", text, re.IGNORECASE)
            or re.search(r"#" + re.escape(t.replace(" ", "")) + r"\b", text, re.IGNORECASE)]


def assert_held(item, profile):
    """item follows profile: no banned word, its disclaimers, metadata and brandFit."""
    text = text_of(item)
    assert banned_in(text) == [], (banned_in(text), item)
    assert limit_violations(item) == [], (limit_violations(item), item)
    if item["platform"] == "google_ads":
        assert any(DISCLAIMER in d for d in item["descriptions"]), item
        assert item["contentBody"] == item["descriptions"][0], item
    else:
        assert DISCLAIMER in item["contentBody"], item
    assert (EMAIL_DISCLAIMER in item["contentBody"]) == (item["contentType"] == "email"), item
    assert item["metadata"]["brandProfileId"] == profile["id"], item["metadata"]
    assert item["metadata"]["brandProfileVersion"] == profile["version"], item["metadata"]
    fit = item["qualityBreakdown"]["brandFit"]
    assert fit["profileId"] == profile["id"] and fit["profileVersion"] == profile["version"], fit
    assert fit["checked"]["forbiddenTerms"] == 2 and fit["checked"]["competitors"] == 2, fit
    assert fit["checked"]["disclaimers"] == (2 if item["contentType"] == "email" else 1), fit
    assert fit["violations"] is False and fit["score"] == 100, fit
    return fit


# --- CRUD ----------------------------------------------------------------------

def test_create_get_update_versions(stack, alice):
    p = create(alice)
    for k, v in PROFILE.items():
        assert p[k] == v, (k, p[k])
    assert p["version"] == 1 and uuid.UUID(p["id"])
    assert assert_json(alice.req("GET", f"/api/brand-profiles/{p['id']}"), 200) == p

    patched = assert_json(alice.req("PATCH", f"/api/brand-profiles/{p['id']}", json={"formality": 4}), 200)
    assert patched["version"] == 2 and patched["formality"] == 4
    assert patched["forbiddenTerms"] == FORBIDDEN, "PATCH keeps what it does not name"
    assert patched["updatedAt"] >= p["updatedAt"]

    put = assert_json(alice.req("PUT", f"/api/brand-profiles/{p['id']}", json={"name": "Plain"}), 200)
    assert put["version"] == 3
    assert put["forbiddenTerms"] == [] and put["requiredDisclaimers"] == [] and put["voice"] == ""
    assert put["formality"] == 3 and put["emojiPolicy"] == "sparing" and put["readingLevel"] == {"maxGrade": None}
    assert stack.scalar("SELECT version FROM brand_profiles WHERE id = %s", [p["id"]]) == 3

    # a direct UPDATE bumps the version too (the trigger, not the API, guarantees it)
    with stack.db() as conn:
        conn.execute("UPDATE brand_profiles SET description = 'x' WHERE id = %s", [p["id"]])
    assert assert_json(alice.req("GET", f"/api/brand-profiles/{p['id']}"), 200)["version"] == 4


def test_list_pages_newest_first(alice):
    ids = [create(alice, name=f"P{i}")["id"] for i in range(3)]
    page = assert_json(alice.req("GET", "/api/brand-profiles?limit=2"), 200)
    assert [x["id"] for x in page["items"]] == ids[::-1][:2] and page["nextCursor"]
    rest = assert_json(alice.req("GET", f"/api/brand-profiles?limit=2&cursor={page['nextCursor']}"), 200)
    assert [x["id"] for x in rest["items"]] == ids[:1] and rest["nextCursor"] is None
    assert_problem(alice.req("GET", "/api/brand-profiles?limit=0"), 400)


@pytest.mark.parametrize("field,value", [
    ("voice", "x" * 2001),
    ("formality", 0),
    ("formality", 6),
    ("emojiPolicy", "lots"),
    ("readingLevel", {"maxGrade": 25}),
    ("examples", ["e"] * 6),
    ("forbiddenTerms", ["  "]),
    ("forbiddenTerms", [" cheap"]),
    ("competitors", ["..."]),
    ("preferredTerms", [{"term": "cheap", "replaces": ["inexpensive"]}]),
    ("preferredTerms", [{"term": "x"}]),
    ("requiredDisclaimers", [{"text": "Not as cheap as it looks."}]),
    ("requiredDisclaimers", [{"text": "Terms apply.", "platforms": ["myspace"]}]),
    ("unknownField", 1),
])
def test_validation_422_writes_nothing(stack, alice, field, value):
    before = stack.scalar("SELECT count(*) FROM brand_profiles WHERE user_id = %s", [alice.id])
    body = dict(PROFILE)
    body[field] = value
    prob = assert_problem(alice.post("/api/brand-profiles", body), 422)
    assert any(e["field"].startswith(field) for e in prob["errors"]), prob
    assert stack.scalar("SELECT count(*) FROM brand_profiles WHERE user_id = %s", [alice.id]) == before


# --- ownership, campaigns, delete -----------------------------------------------

def test_another_users_profile_is_404(alice, bob):
    p = create(alice)
    path = f"/api/brand-profiles/{p['id']}"
    assert_problem(bob.req("GET", path), 404)
    assert_problem(bob.req("PATCH", path, json={"name": "mine"}), 404)
    assert_problem(bob.req("PUT", path, json={"name": "mine"}), 404)
    assert_problem(bob.req("DELETE", path), 404)
    assert assert_json(alice.req("GET", path), 200)["version"] == 1, "nothing changed"
    assert_problem(bob.post("/api/campaigns", {"name": "B", "objective": "awareness", "brandProfileId": p["id"]}),
                   422, ["brandProfileId"])
    c = bob.campaign()
    assert_problem(bob.req("PATCH", f"/api/campaigns/{c['id']}", json={"brandProfileId": p["id"]}), 422,
                   ["brandProfileId"])
    assert_problem(bob.post("/api/content/generate-social", {"platform": "linkedin", "brandProfileId": p["id"]}), 404)


def test_campaign_uses_profile_and_delete_is_409(stack, alice):
    p = create(alice)
    c = alice.campaign(brandProfileId=p["id"])
    assert c["brandProfileId"] == p["id"]
    listed = assert_json(alice.req("GET", "/api/campaigns"), 200)["items"]
    assert [x["brandProfileId"] for x in listed if x["id"] == c["id"]] == [p["id"]]
    prob = assert_problem(alice.req("DELETE", f"/api/brand-profiles/{p['id']}"), 409)
    assert "campaign" in prob["detail"]
    assert stack.scalar("SELECT count(*) FROM brand_profiles WHERE id = %s", [p["id"]]) == 1
    assert assert_json(alice.req("PATCH", f"/api/campaigns/{c['id']}", json={"brandProfileId": None}),
                       200)["brandProfileId"] is None
    assert alice.req("DELETE", f"/api/brand-profiles/{p['id']}").status_code == 204
    assert_problem(alice.req("GET", f"/api/brand-profiles/{p['id']}"), 404)


# --- generation (builtin) -------------------------------------------------------

def test_builtin_sync_generation_holds_the_profile(alice):
    p = create(alice)
    c = alice.campaign(brandProfileId=p["id"], **DIRTY_BRIEF)
    fits = []
    for i in range(0, len(ALL_PAIRS), 20):
        r = alice.post("/api/content/batch-generate", {"campaignId": c["id"], "items": [
            {"contentType": t, "platform": pl} for t, pl in ALL_PAIRS[i:i + 20]]})
        for item in assert_json(r, 200)["items"]:
            assert not is_problem(item), item
            fits.append(assert_held(item, p))
    found = [f for fit in fits for f in fit["found"]]
    assert any(f["kind"] == "forbiddenTerm" and f["action"] == "replaced" and f["with"] == "affordable"
               for f in found), found
    assert any(f["kind"] == "competitor" and f["action"] == "removed" for f in found), found

    # without a campaign, the body names the profile
    r = alice.post("/api/content/generate-email", {"product": "Acme Planner", "brandProfileId": p["id"],
                                                   "keywords": "cheap planner"})
    assert_held(assert_json(r, 200)["content"], p)


def test_builtin_generation_job_holds_the_profile(stack, alice):
    p = create(alice)
    c = alice.campaign(brandProfileId=p["id"], generationSettings={
        "contentTypes": ["email", "social_post", "ad_copy"], "platforms": ["email", "twitter", "google_ads"]},
        **DIRTY_BRIEF)
    job = assert_json(alice.post(f"/api/jobs/campaigns/{c['id']}/generate", {}), 202)["job"]
    done = alice.wait_job(job["id"])
    assert done["state"] == "completed", done
    items = stored_content(stack, c["id"])
    assert len(items) == 4 and done["result"]["failed"] == 0, done
    for item in items:
        assert_held(item, p)


def test_disclaimer_that_cannot_fit_fails_clearly(alice):
    long_text = "Offer valid for new customers only; see acme.example/terms for the full conditions that apply."
    p = create(alice, requiredDisclaimers=[{"text": long_text, "platforms": ["google_ads"]}])
    r = alice.post("/api/content/generate-ad-copy", {"platform": "google_ads", "brandProfileId": p["id"],
                                                     "product": "Acme Planner"})
    prob = assert_problem(r, 422)
    assert "disclaimer" in prob["detail"] and "does not fit" in prob["detail"], prob
    ok = alice.post("/api/content/generate-ad-copy", {"platform": "twitter", "brandProfileId": p["id"],
                                                      "product": "Acme Planner"})
    assert long_text not in assert_json(ok, 200)["content"]["contentBody"], "the disclaimer is google_ads only"


# --- manual content --------------------------------------------------------------

def test_manual_content_violation_is_422_unless_allowed(stack, alice):
    p = create(alice)
    c = alice.campaign(brandProfileId=p["id"])
    path = f"/api/campaigns/{c['id']}/content"
    dirty = {"contentType": "social_post", "platform": "linkedin",
             "contentBody": "Switch from Trello today and plan your week in five minutes. " + DISCLAIMER}
    prob = assert_problem(alice.post(path, dirty), 422, ["contentBody"])
    assert "Trello" in prob["detail"] and "allowBrandViolations" in prob["detail"], prob
    assert stored_content(stack, c["id"]) == []

    missing = dict(dirty, contentBody="Plan your week in five minutes.")
    prob = assert_problem(alice.post(path, missing), 422, ["contentBody"])
    assert DISCLAIMER in prob["errors"][0]["message"], prob

    kept = assert_json(alice.post(path, dict(dirty, allowBrandViolations=True)), 201)
    assert "allowBrandViolations" not in kept
    assert "Trello" in kept["contentBody"], "stored as written"
    fit = kept["qualityBreakdown"]["brandFit"]
    assert fit["violations"] is True and fit["score"] == 0, fit
    assert [(f["kind"], f["term"], f["action"]) for f in fit["found"]] == [("competitor", "Trello", "found")], fit
    assert kept["qualityScore"] <= 60
    assert kept["metadata"]["brandProfileId"] == p["id"] and kept["metadata"]["brandProfileVersion"] == 1

    clean = assert_json(alice.post(path, dict(dirty, contentBody="Plan your week in five minutes. " + DISCLAIMER)),
                        201)
    assert clean["qualityBreakdown"]["brandFit"]["violations"] is False
    item_path = f"{path}/{clean['id']}"
    prob = assert_problem(alice.req("PATCH", item_path, json={"callToAction": "Cheap seats left"}), 422,
                          ["callToAction"])
    assert "cheap" in prob["detail"], prob
    assert assert_json(alice.req("GET", item_path), 200)["callToAction"] is None, "nothing changed"
    edited = assert_json(alice.req("PATCH", item_path, json={"callToAction": "Cheap seats left",
                                                             "allowBrandViolations": True}), 200)
    assert edited["callToAction"] == "Cheap seats left"
    assert edited["qualityBreakdown"]["brandFit"]["violations"] is True

    # a campaign without a profile: nothing is checked
    plain = alice.campaign()
    item = assert_json(alice.post(f"/api/campaigns/{plain['id']}/content", dirty), 201)
    assert "brandFit" not in item["qualityBreakdown"] and "brandProfileId" not in item["metadata"]


def test_largest_profile_on_longest_post_answers_at_once(stack, alice):
    """A profile at every list's limit (1,150 terms of 100 bytes that share 97) against a 63,206-character
    post of the bytes they share: trying every term at every byte took ~20 s a post and stalled the pool
    (issue #14 review). The term trie walks at most one term's length a byte: well inside the timeout."""
    dashes = "-" * 97
    p = create(alice, forbiddenTerms=[f"{dashes}f{i:02d}" for i in range(100)],
               competitors=[f"{dashes}c{i:02d}" for i in range(50)],
               preferredTerms=[{"term": f"p{i:02d}", "replaces": [f"{dashes[2:]}r{i:02d}{j:02d}" for j in range(20)]}
                               for i in range(50)],
               requiredDisclaimers=[{"text": DISCLAIMER}])
    c = alice.campaign(brandProfileId=p["id"])
    path = f"/api/campaigns/{c['id']}/content"
    post = {"contentType": "social_post", "platform": "facebook", "hashtags": ["#launch", "#" + "x" * 99]}
    clean = "-" * (63206 - len(DISCLAIMER) - 1) + " " + DISCLAIMER
    item = assert_json(alice.post(path, dict(post, contentBody=clean), timeout=10), 201)
    assert item["qualityBreakdown"]["brandFit"]["violations"] is False
    dirty = "-" * 60000 + "r4219 and " + "-" * 3000 + "c07 " + DISCLAIMER
    prob = assert_problem(alice.post(path, dict(post, contentBody=dirty), timeout=10), 422, ["contentBody"])
    found = " ".join(e["message"] for e in prob["errors"])
    assert f'"{dashes}c07"' in found and f'"{dashes[2:]}r4219"' in found and '"p42"' in found, prob
    assert len(stored_content(stack, c["id"])) == 1


# --- generation (LLM, through the fake OpenAI-compatible server) ------------------

@pytest.fixture(scope="module")
def llm_stack(fake):
    with Stack.start(fake.env()) as s:
        yield s


def test_llm_prompt_repair_and_replacement(llm_stack, fake):
    user = GenUser(llm_stack)
    p = create(user)
    c = user.campaign(brandProfileId=p["id"])
    dirty = {"contentBody": "Cheap planning for busy clients, guaranteed. Better than Trello.",
             "callToAction": "Start free", "hashtags": ["#planning", "#Trello"]}
    clean = {"contentBody": "Affordable planning for busy teams. Plan your week in five minutes.",
             "callToAction": "Start free", "hashtags": ["#planning"]}
    fake.script({"match": {"repair": True}, "fields": clean}, {"fields": dirty})
    item = assert_json(user.post("/api/content/generate-social", {"platform": "linkedin", "campaignId": c["id"]}),
                       200)["content"]
    reqs = fake.requests()
    assert len(reqs) == 2, [user_text(r)[:60] for r in reqs]
    system = system_text(reqs[0])
    for needle in (PROFILE["voice"], "Never use these words", '"cheap"', '"Trello"', DISCLAIMER,
                   'Say "affordable" instead of "cheap", "inexpensive"', "no emoji", "grade 8", PROFILE["examples"][0]):
        assert needle in system, (needle, system)
    repair = user_text(reqs[1])
    assert repair.startswith("Rewrite this copy"), repair
    assert '"Trello"' in repair and '"cheap"' in repair, repair
    assert item["contentBody"] == clean["contentBody"] + "\n\n" + DISCLAIMER, item
    fit = assert_held(item, p)
    assert fit["llmRepair"] is True, fit

    # a model that keeps the words: they are replaced or removed after the one repair
    fake.script({"fields": dirty})
    item = assert_json(user.post("/api/content/generate-social", {"platform": "linkedin", "campaignId": c["id"],
                                                                  "save": True}), 201)["content"]
    assert len(fake.requests()) == 2
    assert item["contentBody"].startswith("Affordable planning for busy customers"), item
    assert item["hashtags"] == ["#planning"], item
    fit = assert_held(item, p)
    assert {(f["kind"], f["action"]) for f in fit["found"]} >= {
        ("forbiddenTerm", "replaced"), ("forbiddenTerm", "removed"), ("competitor", "removed"),
        ("preferredTerm", "replaced"), ("disclaimer", "added")}, fit
    assert [i["id"] for i in stored_content(llm_stack, c["id"])] == [item["id"]]
