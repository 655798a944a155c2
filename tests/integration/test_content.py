"""Content items of a campaign (issue #3) through nginx: add / list / get /
patch / delete, server-side id, metadata and quality score, every validation
rule (422 naming the field, nothing written), mass assignment, the 500-item
cap, and concurrent appends and patches that must never lose an item."""

import threading
import uuid

import pytest

from campaign_helpers import Unchanged, User, content_items, error_fields, problem, q, q1
from helpers import RFC3339_UTC_RE, UUID_RE, assert_json

ITEM_KEYS = {"id", "contentType", "platform", "subjectLine", "preheader", "contentBody",
             "callToAction", "hashtags", "visualUrl", "qualityScore", "qualityBreakdown",
             "metadata", "createdAt", "updatedAt"}
CHECKS = {"brandFit", "length", "readability", "callToAction", "keywords", "hashtags", "spam", "subjectLine",
          "personaMatch", "truncation", "grammar", "stuffing", "repetition", "shouting", "punctuation", "emoji",
          "links", "readingGrade"}
ALLOWED_PAIRS = [("email", "email")] + \
    [("social_post", p) for p in ("linkedin", "twitter", "facebook", "instagram")] + \
    [("ad_copy", p) for p in ("google_ads", "facebook", "linkedin", "instagram", "twitter")]
ALL_PAIRS = [(t, p) for t in ("email", "social_post", "ad_copy")
             for p in ("email", "linkedin", "twitter", "facebook", "instagram", "google_ads")]
REFUSED_PAIRS = [x for x in ALL_PAIRS if x not in ALLOWED_PAIRS]
LIMITS = {"twitter": 280, "linkedin": 3000, "instagram": 2200, "facebook": 63206,
          "google_ads": 90, "email": 50000}

BODY = "Plan your week in five minutes. Our planner finds the time you lose. Try it free today."


@pytest.fixture(scope="module")
def alice(stack):
    return User(stack, "Alice")


@pytest.fixture(scope="module")
def bob(stack):
    return User(stack, "Bob")


@pytest.fixture
def camp(alice):
    return alice.campaign(name="Content host", objective="conversion",
                          keywords="planner, productivity")


def cpath(cid, iid=None):
    return f"/api/campaigns/{cid}/content" + (f"/{iid}" if iid else "")


def minimal(ctype, platform):
    body = {"contentType": ctype, "platform": platform, "contentBody": BODY[:80]}
    return body


def check_item(item):
    assert ITEM_KEYS <= set(item), ITEM_KEYS - set(item)
    assert UUID_RE.match(item["id"])
    assert isinstance(item["qualityScore"], int) and 0 <= item["qualityScore"] <= 100
    bd = item["qualityBreakdown"]
    assert isinstance(bd, dict) and bd and set(bd) <= CHECKS, set(bd) - CHECKS
    for name, c in bd.items():
        assert set(c) >= {"score", "weight", "note"}, (name, c)
        assert 0 <= c["score"] <= 100 and c["weight"] > 0 and isinstance(c["note"], str)
    scores = [c["score"] for c in bd.values()]
    assert min(scores) <= item["qualityScore"] <= max(scores), "score outside its checks"
    m = item["metadata"]
    assert m["generatedBy"] == "manual"
    assert (m["model"], m["promptVersion"], m["jobId"], m["tokens"]) == (None, None, None, 0)
    assert RFC3339_UTC_RE.match(m["generatedAt"])
    assert RFC3339_UTC_RE.match(item["createdAt"]) and RFC3339_UTC_RE.match(item["updatedAt"])


# --- success paths ------------------------------------------------------

def test_content_add_list_get_patch_delete(stack, alice, camp):
    cid = camp["id"]
    email = {"contentType": "email", "platform": "email", "subjectLine": "Your week, planned",
             "preheader": "Five minutes on Monday saves hours by Friday. Here is how.",
             "contentBody": BODY * 5, "callToAction": "Start your free trial",
             "visualUrl": "https://cdn.example.com/hero.png"}
    r = alice.req("POST", cpath(cid), json=email)
    e = assert_json(r, 201)
    check_item(e)
    for k, v in email.items():
        assert e[k] == v, k
    assert e["hashtags"] == []
    assert e["createdAt"] == e["updatedAt"] == e["metadata"]["generatedAt"]
    social = alice.content(cid, contentType="social_post", platform="twitter",
                           contentBody="Plan less, do more. #productivity", hashtags=["#planner", "focus"])
    check_item(social)
    assert social["hashtags"] == ["#planner", "focus"]
    ad = alice.content(cid, contentType="ad_copy", platform="google_ads",
                       contentBody="Plan your week in 5 minutes. Try free.",
                       headlines=["Weekly planner", "Save an hour a day"],
                       descriptions=["Plan your week in five minutes.", "Free for 14 days."])
    check_item(ad)
    assert ad["headlines"] == ["Weekly planner", "Save an hour a day"]
    assert ad["descriptions"] == ["Plan your week in five minutes.", "Free for 14 days."]

    # stored as the API returns it, in order
    stored = content_items(stack, cid)
    assert stored == [e, social, ad]

    lst = assert_json(alice.req("GET", cpath(cid)), 200)
    assert lst == {"items": [e, social, ad], "nextCursor": None}
    for query, expect in (("contentType=email", [e]), ("contentType=ad_copy", [ad]),
                          ("platform=twitter", [social]), ("platform=facebook", []),
                          ("contentType=social_post&platform=twitter", [social]),
                          ("contentType=email&platform=twitter", [])):
        got = assert_json(alice.req("GET", cpath(cid) + "?" + query), 200)
        assert got["items"] == expect, query
    assert assert_json(alice.req("GET", cpath(cid, social["id"])), 200) == social

    # the campaign shows its content and counts it
    full = assert_json(alice.req("GET", f"/api/campaigns/{cid}"), 200)
    assert [i["id"] for i in full["content"]] == [e["id"], social["id"], ad["id"]]

    # PATCH: re-scored, edited, timestamps; the other items untouched
    new_body = "URGENT!!! FREE MONEY!!! CLICK NOW!!! 100% GUARANTEED WINNER!!!"
    r = alice.req("PATCH", cpath(cid, social["id"]), json={"contentBody": new_body})
    p = assert_json(r, 200)
    assert p["id"] == social["id"] and p["contentBody"] == new_body
    assert p["hashtags"] == social["hashtags"] and p["platform"] == "twitter"
    assert p["metadata"]["edited"] is True
    assert p["metadata"]["generatedAt"] == social["metadata"]["generatedAt"]
    assert p["createdAt"] == social["createdAt"] and p["updatedAt"] > social["updatedAt"]
    assert p["qualityBreakdown"] != social["qualityBreakdown"]
    assert p["qualityScore"] < social["qualityScore"], (p["qualityScore"], social["qualityScore"])
    # the score is the one a fresh item with the same fields gets
    twin = alice.content(cid, contentType="social_post", platform="twitter", contentBody=new_body,
                         hashtags=["#planner", "focus"])
    assert (twin["qualityScore"], twin["qualityBreakdown"]) == (p["qualityScore"], p["qualityBreakdown"])
    stored = content_items(stack, cid)
    assert stored[0] == e and stored[2] == ad and stored[1] == p
    assert assert_json(alice.req("GET", cpath(cid, social["id"])), 200) == p

    # PATCH may move an item to another valid type/platform pair
    p2 = assert_json(alice.req("PATCH", cpath(cid, ad["id"]),
                               json={"platform": "facebook", "headlines": [], "descriptions": []}), 200)
    assert p2["platform"] == "facebook" and p2["contentType"] == "ad_copy"

    # DELETE
    r = alice.req("DELETE", cpath(cid, social["id"]))
    assert r.status_code == 204 and r.content == b""
    ids = [i["id"] for i in content_items(stack, cid)]
    assert ids == [e["id"], ad["id"], twin["id"]]
    problem(alice.req("GET", cpath(cid, social["id"])), 404)
    problem(alice.req("PATCH", cpath(cid, social["id"]), json={"contentBody": "x"}), 404)
    problem(alice.req("DELETE", cpath(cid, social["id"])), 404)


def test_campaign_get_reads_the_content_written_with_the_row(stack, alice, camp):
    """GET /api/campaigns/:id reads campaigns.content_items (sql/0029), written with the row: after
    each kind of write, joined, they are the jsonb content's own text, and GET answers exactly the
    stored items."""
    cid = camp["id"]

    def check():
        assert q1(stack, "SELECT '[' || array_to_string(content_items, ', ') || ']' = content::text"
                         " FROM campaigns WHERE id = %s", (cid,)) is True
        got = assert_json(alice.req("GET", f"/api/campaigns/{cid}"), 200)
        assert got["content"] == content_items(stack, cid)
        return got

    assert check()["content"] == []
    a = alice.content(cid, contentType="email", platform="email", subjectLine="Ünïcode \"quoted\"",
                      contentBody=BODY + " \u2014 \\ done")
    b = alice.content(cid, contentType="social_post", platform="linkedin", contentBody=BODY)
    assert [i["id"] for i in check()["content"]] == [a["id"], b["id"]]
    assert_json(alice.req("PATCH", cpath(cid, a["id"]), json={"contentBody": "Edited. " + BODY}), 200)
    assert check()["content"][0]["contentBody"] == "Edited. " + BODY
    assert_json(alice.req("PATCH", f"/api/campaigns/{cid}", json={"name": "Renamed host"}), 200)
    assert check()["name"] == "Renamed host"
    assert alice.req("DELETE", cpath(cid, a["id"])).status_code == 204
    assert [i["id"] for i in check()["content"]] == [b["id"]]


@pytest.mark.parametrize("ctype,platform", ALLOWED_PAIRS)
def test_content_allowed_pairs(stack, alice, camp, ctype, platform):
    item = alice.content(camp["id"], **minimal(ctype, platform))
    check_item(item)
    assert (item["contentType"], item["platform"]) == (ctype, platform)
    assert q1(stack, "SELECT count(*) FROM campaign_content WHERE campaign_id = %s "
                     "AND content_id = %s AND content_type = %s AND platform = %s",
              (camp["id"], item["id"], ctype, platform)) == 1


def test_content_score_is_deterministic(stack, alice, camp):
    body = {"contentType": "email", "platform": "email", "subjectLine": "Plan your week",
            "contentBody": BODY * 3, "callToAction": "Try it free"}
    a = alice.content(camp["id"], **body)
    b = alice.content(camp["id"], **body)
    assert a["id"] != b["id"]
    assert (a["qualityScore"], a["qualityBreakdown"]) == (b["qualityScore"], b["qualityBreakdown"])


def test_broken_copy_scores_at_most_60(stack, alice, camp):
    """Issue #10: a cut subject scored 96; manual items go through the same checks."""
    email = {"contentType": "email", "platform": "email", "subjectLine": "Ready to get 10 hours a?",
             "preheader": "See how the planner gives you ten hours a week back, starting today.",
             "contentBody": BODY * 3, "callToAction": "Try it free"}
    cut = alice.content(camp["id"], **email)
    assert cut["qualityScore"] <= 60, cut
    assert cut["qualityBreakdown"]["truncation"]["score"] == 0, cut["qualityBreakdown"]
    assert "subjectLine" in cut["qualityBreakdown"]["truncation"]["note"], cut["qualityBreakdown"]
    whole = alice.content(camp["id"], **dict(email, subjectLine="Get 10 hours a week back"))
    assert whole["qualityBreakdown"]["truncation"]["score"] == 100 and whole["qualityScore"] > 60, whole
    ad = alice.content(camp["id"], contentType="ad_copy", platform="google_ads", callToAction="Get started",
                       headlines=["Acme Planner", "Built For Save Time", "Plan Your Week"],
                       descriptions=["Plan every week in one place.", "Set up in minutes."])
    assert ad["qualityBreakdown"]["grammar"]["score"] == 0 and ad["qualityScore"] <= 60, ad


@pytest.mark.parametrize("platform", sorted(LIMITS))
def test_content_body_at_platform_limit_accepted(stack, alice, camp, platform):
    ctype = {"email": "email", "google_ads": "ad_copy"}.get(platform, "social_post")
    n = LIMITS[platform]
    r = alice.req("POST", cpath(camp["id"]),
                  json={"contentType": ctype, "platform": platform, "contentBody": "é" * n})
    item = assert_json(r, 201)
    assert len(item["contentBody"]) == n


def test_content_field_limits_accepted(stack, alice, camp):
    item = alice.content(camp["id"], contentType="email", platform="email",
                         subjectLine="s" * 78, preheader="p" * 130, contentBody=BODY,
                         callToAction="c" * 200,
                         visualUrl="https://example.com/" + "a" * (2048 - 20))
    assert len(item["visualUrl"]) == 2048
    item = alice.content(camp["id"], contentType="social_post", platform="instagram",
                         contentBody=BODY, hashtags=[f"#tag_{i}" for i in range(30)],
                         visualUrl="http://example.com/x.jpg")
    assert len(item["hashtags"]) == 30
    item = alice.content(camp["id"], contentType="ad_copy", platform="google_ads",
                         contentBody="Plan your week in five minutes.",
                         headlines=["h" * 30] * 1 + [f"Headline {i}" for i in range(14)],
                         descriptions=["d" * 90, "b", "c", "e"])
    assert len(item["headlines"]) == 15 and len(item["descriptions"]) == 4


# --- validation ---------------------------------------------------------

def _social(**kw):
    b = {"contentType": "social_post", "platform": "twitter", "contentBody": "Hello"}
    b.update(kw)
    return b


def _email(**kw):
    b = {"contentType": "email", "platform": "email", "contentBody": "Hello"}
    b.update(kw)
    return b


def _gads(**kw):
    b = {"contentType": "ad_copy", "platform": "google_ads", "contentBody": "Hello"}
    b.update(kw)
    return b


INVALID = [
    ({"platform": "email", "contentBody": "x"}, {"contentType"}),
    ({"contentType": "email", "contentBody": "x"}, {"platform"}),
    (_social(contentBody=None), {"contentBody"}),
    ({"contentType": "social_post", "platform": "twitter"}, {"contentBody"}),
    (_social(contentBody=""), {"contentBody"}),
    (_social(contentBody=42), {"contentBody"}),
    (_social(contentType="fax"), {"contentType"}),
    (_social(platform="myspace"), {"platform"}),
    (_social(contentType=None), {"contentType"}),
    (_email(subjectLine="s" * 79), {"subjectLine"}),
    (_email(preheader="p" * 131), {"preheader"}),
    (_social(preheader="only emails"), {"preheader"}),
    (_email(callToAction="c" * 201), {"callToAction"}),
    (_social(hashtags=[f"t{i}" for i in range(31)]), {"hashtags"}),
    (_social(hashtags=["ok", "not ok"]), {"hashtags[1]"}),
    (_social(hashtags=["#"]), {"hashtags[0]"}),
    (_social(hashtags=["##double"]), {"hashtags[0]"}),
    (_social(hashtags=["semi;colon"]), {"hashtags[0]"}),
    (_social(hashtags=[""]), {"hashtags[0]"}),
    (_social(hashtags="#one"), {"hashtags"}),
    (_email(hashtags=["news"]), {"hashtags"}),
    (_gads(hashtags=["news"]), {"hashtags"}),
    (_social(visualUrl="ftp://example.com/x.png"), {"visualUrl"}),
    (_social(visualUrl="javascript:alert(1)"), {"visualUrl"}),
    (_social(visualUrl="https://example.com/" + "a" * (2049 - 20)), {"visualUrl"}),
    (_social(visualUrl="not a url"), {"visualUrl"}),
    (_gads(headlines=[f"h{i}" for i in range(16)]), {"headlines"}),
    (_gads(headlines=["h" * 31]), {"headlines[0]"}),
    (_gads(headlines=["ok", ""]), {"headlines[1]"}),
    (_gads(descriptions=["d"] * 5), {"descriptions"}),
    (_gads(descriptions=["d" * 91]), {"descriptions[0]"}),
    (_social(headlines=["h"]), {"headlines"}),
    (_social(platform="facebook", contentType="ad_copy", descriptions=["d"]), {"descriptions"}),
    (_email(headlines=["h"]), {"headlines"}),
    (_social(unknownField=1), {"unknownField"}),
    # everything wrong at once is listed at once
    (_email(subjectLine="s" * 79, preheader="p" * 131, callToAction="c" * 201,
            visualUrl="ftp://x", foo=1),
     {"subjectLine", "preheader", "callToAction", "visualUrl", "foo"}),
    # ... including the platform rules next to per-field errors
    (_email(subjectLine="s" * 79, hashtags=["news"]), {"subjectLine", "hashtags"}),
    (_gads(contentBody="x" * 91, headlines=["h" * 31]), {"contentBody", "headlines[0]"}),
] + [({"contentType": t, "platform": p, "contentBody": "x"}, {"platform"}) for t, p in REFUSED_PAIRS] \
  + [({"contentType": {"email": "email", "google_ads": "ad_copy"}.get(p, "social_post"),
       "platform": p, "contentBody": "x" * (n + 1)}, {"contentBody"}) for p, n in sorted(LIMITS.items())]


def _ids(cases):
    return [",".join(sorted(f)) + f"-{i}" for i, (_, f) in enumerate(cases)]


@pytest.mark.parametrize("body,fields", INVALID, ids=_ids(INVALID))
def test_content_add_invalid(stack, alice, camp, body, fields):
    alice.content(camp["id"])
    with Unchanged(stack, alice):
        r = alice.req("POST", cpath(camp["id"]), json=body)
        problem(r, 422, *fields)
        assert error_fields(r) == fields


PATCH_INVALID = [
    ({"contentBody": "x" * 281}, {"contentBody"}),
    ({"contentBody": ""}, {"contentBody"}),
    ({"contentBody": None}, {"contentBody"}),
    ({"contentType": None}, {"contentType"}),
    ({"platform": None}, {"platform"}),
    ({"platform": "email"}, {"platform"}),
    ({"platform": "google_ads"}, {"platform"}),
    ({"contentType": "email"}, {"platform"}),
    ({"contentType": "email", "platform": "email", "hashtags": ["x"]}, {"hashtags"}),
    ({"preheader": "emails only"}, {"preheader"}),
    ({"headlines": ["google only"]}, {"headlines"}),
    ({"hashtags": ["bad tag"]}, {"hashtags[0]"}),
    ({"subjectLine": "s" * 79}, {"subjectLine"}),
    ({"visualUrl": "file:///etc/passwd"}, {"visualUrl"}),
    ({"callToAction": "c" * 201}, {"callToAction"}),
    ({"bogus": True}, {"bogus"}),
]


@pytest.mark.parametrize("patch,fields", PATCH_INVALID, ids=_ids(PATCH_INVALID))
def test_content_patch_invalid(stack, alice, camp, patch, fields):
    item = alice.content(camp["id"], contentType="social_post", platform="twitter",
                         contentBody="Short and sweet.")
    with Unchanged(stack, alice):
        r = alice.req("PATCH", cpath(camp["id"], item["id"]), json=patch)
        problem(r, 422, *fields)
        assert error_fields(r) == fields


def test_content_patch_email_item_hashtags_refused(stack, alice, camp):
    item = alice.content(camp["id"], **_email())
    with Unchanged(stack, alice):
        r = alice.req("PATCH", cpath(camp["id"], item["id"]), json={"hashtags": ["promo"]})
        problem(r, 422, "hashtags")
        r = alice.req("PATCH", cpath(camp["id"], item["id"]), json={"contentBody": "x" * 50001})
        problem(r, 422, "contentBody")


# --- mass assignment ----------------------------------------------------

FORBIDDEN = {"id": str(uuid.uuid4()), "qualityScore": 100,
             "qualityBreakdown": {"spam": {"score": 100, "weight": 100, "note": "x"}},
             "metadata": {"generatedBy": "ai", "model": "gpt"}, "createdAt": "2020-01-01T00:00:00Z",
             "updatedAt": "2020-01-01T00:00:00Z", "campaignId": str(uuid.uuid4())}


@pytest.mark.parametrize("field", sorted(FORBIDDEN))
@pytest.mark.parametrize("verb", ["POST", "PATCH"])
def test_content_mass_assignment(stack, alice, camp, verb, field):
    item = alice.content(camp["id"])
    path = cpath(camp["id"]) if verb == "POST" else cpath(camp["id"], item["id"])
    with Unchanged(stack, alice):
        r = alice.req(verb, path, json=_social(**{field: FORBIDDEN[field]}))
        problem(r, 422, field)
        assert error_fields(r) == {field}


# --- list query rules and paths ------------------------------------------

@pytest.mark.parametrize("query", ["contentType=fax", "platform=myspace", "foo=1",
                                   "platform=email&platform=twitter", "status=draft"])
def test_content_list_bad_query_400(stack, alice, camp, query):
    alice.content(camp["id"])
    problem(alice.req("GET", cpath(camp["id"]) + "?" + query), 400)


def test_upper_case_ids_name_the_same_item(stack, alice, camp):
    """A UUID's hex digits may come in either case (RFC 4122); stored ids are lower case and a content
    item's id is compared as text, so an upper-case one was 404 on items while it worked on campaigns."""
    item = assert_json(alice.req("POST", cpath(camp["id"]), json=_social(contentBody="Case test")), 201)
    upper = cpath(camp["id"].upper(), item["id"].upper())
    assert assert_json(alice.req("GET", upper), 200)["id"] == item["id"]
    patched = assert_json(alice.req("PATCH", upper, json={"contentBody": "Case test, edited"}), 200)
    assert patched["id"] == item["id"] and patched["contentBody"] == "Case test, edited"
    assert alice.req("DELETE", upper).status_code == 204
    assert alice.req("GET", cpath(camp["id"], item["id"])).status_code == 404


def test_content_item_of_another_campaign_404(stack, alice, camp):
    other = alice.campaign(name="Other")
    item = alice.content(other["id"])
    alice.content(camp["id"])
    with Unchanged(stack, alice):
        for verb, body in (("GET", None), ("PATCH", {"contentBody": "moved?"}), ("DELETE", None)):
            problem(alice.req(verb, cpath(camp["id"], item["id"]), json=body), 404)
        for verb, body in (("GET", None), ("POST", _social())):
            problem(alice.req(verb, cpath(str(uuid.uuid4())), json=body), 404)
        for iid in ("nope", "123"):
            problem(alice.req("GET", cpath(camp["id"], iid)), 404)


# --- cap and concurrency ------------------------------------------------

def test_content_cap_500(stack):
    alice = User(stack, "Big")
    cid = alice.campaign()["id"]
    first = alice.content(cid)
    # fill to 499 in SQL: copies of a real item with fresh ids
    q(stack, """WITH one AS (SELECT content->0 AS item FROM campaigns WHERE id = %(c)s)
                UPDATE campaigns SET content = (
                  SELECT jsonb_agg(one.item || jsonb_build_object('id', gen_random_uuid()))
                    FROM one, generate_series(1, 499)) WHERE id = %(c)s RETURNING id""", {"c": cid})
    assert q1(stack, "SELECT jsonb_array_length(content) FROM campaigns WHERE id = %s", (cid,)) == 499
    last = alice.content(cid)
    assert q1(stack, "SELECT jsonb_array_length(content) FROM campaigns WHERE id = %s", (cid,)) == 500
    with Unchanged(stack, alice):
        problem(alice.req("POST", cpath(cid), json=_social()), 409)
    r = alice.req("DELETE", cpath(cid, last["id"]))
    assert r.status_code == 204
    alice.content(cid)
    assert q1(stack, "SELECT jsonb_array_length(content) FROM campaigns WHERE id = %s", (cid,)) == 500
    assert first["id"] not in [i["id"] for i in content_items(stack, cid)]


def test_content_size_cap_4mib(stack):
    """63,206 characters of four bytes made one item ~253 KB and a campaign 127 MB (sql/0043): the
    document may not grow past 4 MiB (409, nothing written), a name edit never reads it, and a
    document already over the limit can still shrink."""
    alice = User(stack, "Heavy")
    cid = alice.campaign()["id"]
    fat = {"contentType": "social_post", "platform": "facebook", "contentBody": "\U0001F600" * 63206}
    first = assert_json(alice.req("POST", cpath(cid), json=fat), 201)
    # 15 more copies in SQL: 16 items, just under 4 MiB
    q(stack, """WITH one AS (SELECT content->0 AS item FROM campaigns WHERE id = %(c)s)
                UPDATE campaigns SET content = content || (
                  SELECT jsonb_agg(one.item || jsonb_build_object('id', gen_random_uuid()))
                    FROM one, generate_series(1, 15)) WHERE id = %(c)s RETURNING id""", {"c": cid})
    size = q1(stack, "SELECT pg_column_size(content::text::jsonb) FROM campaigns WHERE id = %s", (cid,))
    assert 4194304 - 260000 < size <= 4194304, size
    with Unchanged(stack, alice):
        body = problem(alice.req("POST", cpath(cid), json=fat), 409)
        assert "4 MiB" in body["detail"], body["detail"]
    small = assert_json(alice.req("POST", cpath(cid), json=dict(fat, contentBody="Hello")), 201)  # fits
    with Unchanged(stack, alice):
        body = problem(alice.req("PATCH", cpath(cid, small["id"]), json={"contentBody": "\U0001F600" * 63206}), 409)
        assert "4 MiB" in body["detail"], body["detail"]
    assert alice.req("DELETE", cpath(cid, small["id"])).status_code == 204
    assert assert_json(alice.req("PATCH", f"/api/campaigns/{cid}", json={"name": "Renamed"}), 200)["name"] == "Renamed"
    # over the limit (written with the trigger off, as before 0043): items can still be deleted
    with stack.db() as conn:
        conn.execute("SET session_replication_role = replica")
        conn.execute("""UPDATE campaigns SET content = content || jsonb_build_array(content->0
                                || jsonb_build_object('id', gen_random_uuid())) WHERE id = %s""", (cid,))
    assert q1(stack, "SELECT pg_column_size(content::text::jsonb) FROM campaigns WHERE id = %s", (cid,)) > 4194304
    assert alice.req("DELETE", cpath(cid, first["id"])).status_code == 204
    assert q1(stack, "SELECT jsonb_array_length(content) FROM campaigns WHERE id = %s", (cid,)) == 16


def _run_concurrently(funcs):
    barrier = threading.Barrier(len(funcs))
    results = [None] * len(funcs)

    def run(i, f):
        barrier.wait()
        try:
            results[i] = f()
        except Exception as e:  # noqa: BLE001 - reported by the caller
            results[i] = e

    threads = [threading.Thread(target=run, args=(i, f)) for i, f in enumerate(funcs)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return results


def test_concurrent_appends_all_land(stack):
    alice = User(stack, "Concurrent")
    camp = alice.campaign()
    cid = camp["id"]

    def post(i):
        return lambda: alice.req("POST", cpath(cid), json=_social(contentBody=f"Concurrent post {i}"))

    results = _run_concurrently([post(i) for i in range(20)])
    for r in results:
        assert not isinstance(r, Exception), r
        assert r.status_code == 201, (r.status_code, r.text)
    ids = {r.json()["id"] for r in results}
    assert len(ids) == 20
    stored = content_items(stack, cid)
    assert len(stored) == 20
    assert {i["id"] for i in stored} == ids
    assert sorted(i["contentBody"] for i in stored) == sorted(f"Concurrent post {i}" for i in range(20))


def test_concurrent_patches_of_different_items_lose_nothing(stack):
    alice = User(stack, "Concurrent")
    camp = alice.campaign()
    cid = camp["id"]
    items = [alice.content(cid, **_social(contentBody=f"original {i}")) for i in range(10)]

    def patch(item, rnd):
        return lambda: alice.req("PATCH", cpath(cid, item["id"]),
                                 json={"contentBody": f"{item['id']} round {rnd}"})

    def post(i):
        return lambda: alice.req("POST", cpath(cid), json=_social(contentBody=f"added {i}"))

    for rnd in range(3):
        funcs = [patch(it, rnd) for it in items] + ([post(rnd * 10 + j) for j in range(4)])
        results = _run_concurrently(funcs)
        for r in results:
            assert not isinstance(r, Exception), r
            assert r.status_code in (200, 201), (r.status_code, r.text)
        stored = {i["id"]: i for i in content_items(stack, cid)}
        for it in items:
            assert stored[it["id"]]["contentBody"] == f"{it['id']} round {rnd}", \
                f"round {rnd}: a concurrent PATCH was lost"
            assert stored[it["id"]]["metadata"].get("edited") is True
        assert len(stored) == 10 + 4 * (rnd + 1), "a concurrent append was lost"
