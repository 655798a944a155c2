"""Visuals for generated content (issue #13 section 3): with includeVisuals a
generation job gives each social post and ad item an image asset.

Two stacks, one after the other (class-scoped):
- builtin: no LLM key, so the copy comes from the builtin generator and each
  visual is the branded card rendered with libvips at the platform's size;
- images: the fake OpenAI-compatible server (tests/fake/fake_llm.py) writes
  the copy and, with llm_images_model set, answers /v1/images/generations;
  its modes give a good PNG, SVG, garbage, a PNG header on garbage, a pixel
  bomb, bad base64, a URL instead of bytes, and HTTP 500. Every refused image
  leaves the item its copy, with metadata.visualError saying why.
- image costs: the same with prices and a daily money limit; every images
  request is one llm_usage row (purpose image, cost = llm_image_prices), and
  one the owner's limit has no room for is never sent.
Each visual is fetched through nginx under /media/ and its PNG header read."""

import struct
import time
from decimal import Decimal

import pytest
import requests

from generation_helpers import FAKE_MODEL, FakeLLM, GenUser, stored_content, usage_rows
from helpers import RELAXED_LIMITS, Stack, assert_json

SIZES = {"linkedin": (1200, 628), "twitter": (1600, 900), "facebook": (1200, 628),
         "instagram": (1080, 1080), "google_ads": (1200, 628)}
IMAGES_MODEL = "fake-image-1"


def png_size(data):
    assert data[:8] == b"\x89PNG\r\n\x1a\n", data[:16]
    assert data[12:16] == b"IHDR", data[:32]
    return struct.unpack(">II", data[16:24])


def start_job(user, campaign_id, body=None, path="generate"):
    r = user.req("POST", f"/api/jobs/campaigns/{campaign_id}/{path}", json=body)
    return assert_json(r, 202)["job"]


def fetch_media(stack, url):
    assert url.startswith("/media/"), url
    r = requests.get(stack.base_url + url, timeout=10)
    assert r.status_code == 200, (url, r.status_code, r.text[:200])
    return r


def check_visual(stack, user, item, size):
    """The item's visual is the owner's asset, served by nginx as a PNG of size."""
    assert item.get("visualAssetId"), item
    assert "visualError" not in item["metadata"], item["metadata"]
    r = fetch_media(stack, item["visualUrl"])
    assert r.headers["Content-Type"] == "image/png", r.headers
    assert png_size(r.content) == size, (item["platform"], png_size(r.content))
    a = assert_json(user.req("GET", f"/api/assets/{item['visualAssetId']}"), 200)
    assert a["url"] == item["visualUrl"] and (a["width"], a["height"]) == size, a
    return r.content


class TestBuiltin:
    @pytest.fixture(scope="class")
    def stack(self):
        with Stack.start(dict(RELAXED_LIMITS)) as s:
            yield s

    def test_each_social_and_ad_item_gets_a_card_of_its_platform_size(self, stack):
        user = GenUser(stack)
        camp = user.campaign(product="Acme Planner", generationSettings={
            "contentTypes": ["email", "social_post", "ad_copy"],
            "platforms": ["email", "linkedin", "twitter", "instagram", "google_ads"],
            "includeVisuals": True})
        t0 = time.monotonic()
        job = start_job(user, camp["id"])
        done = user.wait_job(job["id"], timeout=30)
        print(f"builtin job with visuals: {time.monotonic() - t0:.2f}s")
        assert done["state"] == "completed", done
        items = stored_content(stack, camp["id"])
        # email on email; social posts on 3 platforms; ads on 4
        assert len(items) == 8, [(i["contentType"], i["platform"]) for i in items]
        res = done["result"]
        assert res["visuals"] == 7 and res["visualErrors"] == [], res
        cards = {}
        for item in items:
            if item["contentType"] == "email":
                assert not item.get("visualAssetId") and not item.get("visualUrl"), item
                continue
            cards[(item["contentType"], item["platform"])] = check_visual(
                stack, user, item, SIZES[item["platform"]])
        assert len(set(cards.values())) == len(cards), "every item has its own card"
        # the campaign's items are the owner's assets, and only the owner's
        other = GenUser(stack, name="Other")
        some = next(i for i in items if i.get("visualAssetId"))
        assert other.req("GET", f"/api/assets/{some['visualAssetId']}").status_code == 404

    def test_job_payload_turns_visuals_on_and_off(self, stack):
        user = GenUser(stack)
        camp = user.campaign(generationSettings={"includeVisuals": True})
        off = user.wait_job(start_job(user, camp["id"], {"contentTypes": ["social_post"],
                                                         "platforms": ["facebook"],
                                                         "includeVisuals": False})["id"])
        assert off["state"] == "completed" and "visuals" not in off["result"], off
        plain = user.campaign()
        on = user.wait_job(start_job(user, plain["id"], {"contentType": "social_post",
                                                         "platform": "facebook",
                                                         "includeVisuals": True},
                                     path="generate-single")["id"])
        assert on["state"] == "completed" and on["result"]["visuals"] == 1, on
        items = stored_content(stack, plain["id"])
        assert len(items) == 1
        check_visual(stack, user, items[0], SIZES["facebook"])
        assert [i.get("visualAssetId") for i in stored_content(stack, camp["id"])] == [None]

    def test_include_visuals_must_be_a_boolean(self, stack):
        user = GenUser(stack)
        camp = user.campaign()
        r = user.req("POST", f"/api/jobs/campaigns/{camp['id']}/generate", json={"includeVisuals": "yes"})
        assert r.status_code == 422 and "includeVisuals" in r.text, r.text
        with stack.db() as conn:
            assert conn.execute("SELECT count(*) FROM jobs WHERE campaign_id = %s", [camp["id"]]).fetchone()[0] == 0


@pytest.fixture(scope="class")
def fake():
    f = FakeLLM()
    yield f
    f.stop()


def image_requests(fake):
    return [e for e in fake.log()["requests"] if e["path"].endswith("/images/generations")]


class TestImagesEndpoint:
    @pytest.fixture(scope="class")
    def stack(self, fake):
        with Stack.start(fake.env(ADCRAFT_LLM_IMAGES_MODEL=IMAGES_MODEL)) as s:
            yield s

    def one_post(self, stack, fake, *rules, platform="linkedin"):
        fake.script(*rules)
        user = GenUser(stack)
        camp = user.campaign(product="Acme Planner", generationSettings={"includeVisuals": True})
        done = user.wait_job(start_job(user, camp["id"], {"contentType": "social_post", "platform": platform},
                                       path="generate-single")["id"], timeout=30)
        assert done["state"] == "completed", done
        items = stored_content(stack, camp["id"])
        assert len(items) == 1, items
        return user, done, items[0]

    def test_a_good_image_becomes_the_items_asset(self, stack, fake):
        user, done, item = self.one_post(stack, fake)
        data = check_visual(stack, user, item, (1536, 1024))
        assert done["result"]["visuals"] == 1 and done["result"]["visualErrors"] == [], done["result"]
        reqs = image_requests(fake)
        assert len(reqs) == 1, reqs
        q = reqs[0]
        assert q["path"] == "/v1/images/generations", q["path"]
        assert q["headers"].get("authorization", "").startswith("Bearer "), q["headers"]
        b = q["body"]
        assert (b["model"], b["size"], b["response_format"], b["n"]) == (IMAGES_MODEL, "1536x1024", "b64_json", 1), b
        assert "Acme Planner" in b["prompt"] and "linkedin" in b["prompt"], b["prompt"]
        assert item["contentBody"] and len(data) > 100

    def test_images_are_fetched_concurrently(self, stack, fake):
        fake.script({"match": {"endpoint": "images"}, "latencyMs": 800})
        user = GenUser(stack)
        camp = user.campaign(generationSettings={"includeVisuals": True})
        t0 = time.monotonic()
        job = start_job(user, camp["id"], {"contentTypes": ["social_post"],
                                           "platforms": ["linkedin", "twitter", "facebook", "instagram"]})
        done = user.wait_job(job["id"], timeout=30)
        took = time.monotonic() - t0
        assert done["state"] == "completed" and done["result"]["visuals"] == 4, done
        arrivals = sorted(q["mono"] for q in image_requests(fake))
        assert len(arrivals) == 4 and arrivals[-1] - arrivals[0] < 0.5, arrivals
        assert took < 3.0, f"4 images at 800 ms each took {took:.2f}s"
        assert all(i.get("visualAssetId") for i in stored_content(stack, camp["id"]))

    def test_square_platform_asks_for_a_square(self, stack, fake):
        user, _, item = self.one_post(stack, fake, platform="instagram")
        check_visual(stack, user, item, (1024, 1024))
        assert image_requests(fake)[0]["body"]["size"] == "1024x1024"

    @pytest.mark.parametrize("rule,why", [
        ({"image": "svg"}, "refused: the file is not a PNG, JPEG, WebP or GIF image"),
        ({"image": "garbage"}, "refused: the file is not a PNG, JPEG, WebP or GIF image"),
        ({"image": "pngheader"}, "refused: the png header cannot be read"),
        ({"image": "bomb"}, "refused: the image is 20000x20000"),
        ({"image": "big"}, "refused: the image is larger than 10485760 bytes"),
        ({"mode": "huge", "sizeBytes": 23 * 1024 * 1024}, "larger than 22 MiB"),
        ({"image": "notb64"}, "not valid base64"),
        ({"image": "url"}, "did not answer with b64_json"),
        ({"image": "empty"}, "no data[0]"),
        ({"mode": "http", "status": 500}, "HTTP 500"),
        ({"mode": "malformed"}, "not valid JSON"),
    ], ids=["svg", "garbage", "png-header", "bomb", "too-large", "huge-answer", "not-base64", "url", "empty", "http-500", "malformed"])
    def test_a_refused_image_keeps_the_copy_and_says_why(self, stack, fake, rule, why):
        user, done, item = self.one_post(stack, fake, dict(rule, match={"endpoint": "images"}))
        assert item["contentBody"] and item["callToAction"], item
        assert not item.get("visualAssetId") and not item.get("visualUrl"), item
        err = item["metadata"].get("visualError", "")
        assert why in err, err
        res = done["result"]
        assert res["generated"] == 1 and res["visuals"] == 0, res
        assert res["visualErrors"] == [{"contentType": "social_post", "platform": "linkedin", "variant": 0,
                                        "error": err}], res
        assert assert_json(user.req("GET", "/api/assets"), 200)["items"] == []

    def test_cancel_during_the_image_request_is_prompt(self, stack, fake):
        fake.script({"match": {"endpoint": "images"}, "latencyMs": 20000})
        user = GenUser(stack)
        camp = user.campaign(generationSettings={"includeVisuals": True})
        job = start_job(user, camp["id"], {"contentType": "social_post", "platform": "twitter"},
                        path="generate-single")
        deadline = time.monotonic() + 10
        while not image_requests(fake) and time.monotonic() < deadline:
            time.sleep(0.02)
        assert image_requests(fake), "the images request never came"
        t_cancel = time.monotonic()
        r = user.req("DELETE", f"/api/jobs/content-generation/{job['id']}/cancel")
        assert assert_json(r, 200)["job"]["state"] == "cancelled", r.text
        j = user.wait_job(job["id"], states=("cancelled",), pred=lambda j: j["result"] is not None, timeout=5)
        assert time.monotonic() - t_cancel < 1.5, "the worker did not stop promptly"
        q = image_requests(fake)[0]
        assert q["clientGone"] and q["clientGoneMono"] - t_cancel < 1.5, q
        items = stored_content(stack, camp["id"])
        assert all(not i.get("visualAssetId") for i in items), items
        assert j["result"]["cancelled"] is True, j["result"]


IMAGE_PRICE = Decimal("0.04")


class TestImageCosts:
    """Images requests are calls: reserved against the owner's money limits, then recorded."""

    @pytest.fixture(scope="class")
    def stack(self, fake):
        with Stack.start(fake.env(ADCRAFT_LLM_IMAGES_MODEL=IMAGES_MODEL,
                                  ADCRAFT_LLM_PRICES=f"{FAKE_MODEL} 1.50 2.00 USD",
                                  ADCRAFT_LLM_IMAGE_PRICES=f"{IMAGES_MODEL} 0.04 USD, other-image 9",
                                  ADCRAFT_DAILY_COST_LIMIT="5")) as s:
            yield s

    def run_job(self, stack, fake, platforms, *rules, daily_cost=None):
        fake.script(*rules)
        user = GenUser(stack)
        if daily_cost is not None:
            with stack.db() as conn:
                conn.execute("INSERT INTO user_limits (user_id, daily_cost) VALUES (%s, %s)", [user.id, daily_cost])
        camp = user.campaign(product="Acme Planner", generationSettings={"includeVisuals": True})
        job = start_job(user, camp["id"], {"contentTypes": ["social_post"], "platforms": platforms})
        done = user.wait_job(job["id"], timeout=30)
        assert done["state"] == "completed", done
        return user, job, done, stored_content(stack, camp["id"])

    def test_each_image_is_one_usage_row_at_its_price(self, stack, fake):
        user, job, done, items = self.run_job(stack, fake, ["linkedin", "twitter"])
        assert done["result"]["visuals"] == 2, done["result"]
        assert len(image_requests(fake)) == 2
        rows = usage_rows(stack, user.id)
        images = [r for r in rows if r["purpose"] == "image"]
        assert len(images) == 2, rows
        for r in images:
            assert (r["provider"], r["model"], r["content_type"], r["prompt_tokens"], r["completion_tokens"],
                    r["outcome"], r["http_status"], r["cost"], r["currency"]) == \
                ("openai", IMAGES_MODEL, "social_post", 0, 0, "ok", 200, IMAGE_PRICE, "USD"), r
            assert str(r["job_id"]) == job["id"] and r["latency_ms"] >= 0, r
        assert sorted(r["platform"] for r in images) == ["linkedin", "twitter"], images
        text = [r for r in rows if r["purpose"] != "image"]
        assert text and all(r["model"] == FAKE_MODEL for r in text), rows
        assert stack.scalar("SELECT count(*) FROM llm_reservations WHERE user_id = %s", [user.id]) == 0
        # GET /api/usage counts them: per model, and in the total
        u = assert_json(user.req("GET", "/api/usage?groupBy=model"), 200)
        by = {i["key"]: i for i in u["items"]}
        assert by[IMAGES_MODEL]["calls"] == 2 and Decimal(str(by[IMAGES_MODEL]["cost"])) == 2 * IMAGE_PRICE, u
        assert by[IMAGES_MODEL]["promptTokens"] == 0 and by[IMAGES_MODEL]["completionTokens"] == 0, u
        assert u["total"]["calls"] == len(rows), u
        assert Decimal(str(u["total"]["cost"])) == sum(r["cost"] for r in rows), u
        # and the limits count them
        status = stack.scalar("SELECT cost_today FROM llm_usage_status(%s, 0, 0, 0, 0)", [user.id])
        assert status == sum(r["cost"] for r in rows) and status > 2 * IMAGE_PRICE, status

    def test_a_failed_request_that_reached_the_provider_is_recorded(self, stack, fake):
        user, _, done, items = self.run_job(stack, fake, ["linkedin"],
                                            {"match": {"endpoint": "images"}, "mode": "http", "status": 500})
        assert "HTTP 500" in items[0]["metadata"]["visualError"], items
        images = [r for r in usage_rows(stack, user.id) if r["purpose"] == "image"]
        assert [(r["outcome"], r["http_status"], r["cost"]) for r in images] == [("error", 500, IMAGE_PRICE)], images

    def test_an_image_the_daily_cost_limit_has_no_room_for_is_never_requested(self, stack, fake):
        # the copy (a 0.004 reservation, well under 0.01 spent) fits 0.02; an image at 0.04 does not
        user, _, done, items = self.run_job(stack, fake, ["linkedin"], daily_cost="0.02")
        assert image_requests(fake) == [], "the images request was sent over the limit"
        assert len(items) == 1 and items[0]["contentBody"] and not items[0].get("visualAssetId"), items
        err = items[0]["metadata"].get("visualError", "")
        assert "daily cost limit" in err and "not requested" in err, err
        res = done["result"]
        assert res["generated"] == 1 and res["visuals"] == 0 and res["visualErrors"][0]["error"] == err, res
        rows = usage_rows(stack, user.id)
        assert rows and all(r["purpose"] != "image" for r in rows), rows
        assert stack.scalar("SELECT count(*) FROM llm_reservations WHERE user_id = %s", [user.id]) == 0
