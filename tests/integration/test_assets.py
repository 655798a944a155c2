"""Image assets (issue #13 section 2, docs/media.md): uploads buffered by nginx
and streamed over FastCGI, libvips validation, metadata stripping, content addressing,
quota, renditions, /media/ serving, and visualAssetId on content items.

One stack of its own: a small per-user quota (ASSET_QUOTA) so the quota
refusal needs no large upload."""

import glob
import hashlib
import os
import struct
import time
import uuid
import zlib

import pytest
import requests

from campaign_helpers import User
from helpers import RELAXED_LIMITS, Stack, assert_json, assert_problem, check_request_id

FIXTURES = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "fixtures", "images")
ASSET_QUOTA = 400000
TYPES = {"png": "image/png", "jpg": "image/jpeg", "webp": "image/webp", "gif": "image/gif"}
RENDITIONS = {"thumbnail": (320, 240), "social_landscape": (1200, 628), "social_square": (1080, 1080),
              "social_story": (1080, 1920)}


@pytest.fixture(scope="module")
def stack():
    with Stack.start({**RELAXED_LIMITS, "ADCRAFT_ASSET_QUOTA_BYTES": str(ASSET_QUOTA)}) as s:
        yield s


@pytest.fixture
def user(stack):
    return User(stack)


def fixture(name):
    with open(os.path.join(FIXTURES, name), "rb") as f:
        return f.read()


def png(width, height, row):
    """A PNG written by hand: 8-bit RGB, every row the bytes row(y) (3 * width of them)."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    z = zlib.compressobj(9)
    idat = b"".join(z.compress(b"\0" + row(y)) for y in range(height)) + z.flush()
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", idat) + chunk(b"IEND", b""))


def unique_png(width=400, height=300):
    """A PNG no other test uploads: a gradient in a random colour (compresses well)."""
    r, g, b = os.urandom(3)
    return png(width, height, lambda y: bytes(v for x in range(width)
                                              for v in (r, (g + x) % 256, (b + y) % 256)))


def png_size(data):
    assert data[:8] == b"\x89PNG\r\n\x1a\n", data[:16]
    return struct.unpack(">II", data[16:24])


def upload(user, data, filename="picture.png", part_type="application/octet-stream"):
    """A multipart/form-data upload with one file part (requests builds the form)."""
    r = requests.post(user.stack.url("/api/assets"), files={"file": (filename, data, part_type)},
                      headers={"Authorization": f"Bearer {user.token}"}, timeout=30)
    check_request_id(r)
    return r


def upload_raw(user, data, ctype, query=""):
    return user.req("POST", "/api/assets" + query, data=data, headers={"Content-Type": ctype})


def media_files(stack, sha):
    return glob.glob(os.path.join(stack.dir, "media", sha[:2], sha + ".*"))


def fetch(stack, url):
    return requests.get(stack.url(url), timeout=10)


def wait_renditions(user, asset_id, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        a = assert_json(user.req("GET", f"/api/assets/{asset_id}"), 200)
        if a["renditions"] is not None:
            return a
        time.sleep(0.2)
    raise AssertionError(f"no renditions for {asset_id} within {timeout}s")


@pytest.mark.parametrize("ext", ["png", "jpg", "webp", "gif"])
def test_each_accepted_type_is_stored_and_served(stack, user, ext):
    r = upload(user, fixture("photo." + ext), filename="My photo." + ext)
    a = assert_json(r, 201)
    assert set(a) == {"id", "filename", "contentType", "bytes", "width", "height", "sha256", "url",
                      "renditions", "createdAt"}
    assert a["contentType"] == TYPES[ext] and (a["width"], a["height"]) == (400, 300)
    assert a["filename"] == "My photo." + ext and a["renditions"] is None
    assert r.headers["Location"] == f"/api/assets/{a['id']}"
    assert a["url"] == f"/media/{a['sha256'][:2]}/{a['sha256']}.{ext}"
    f = fetch(stack, a["url"])
    assert f.status_code == 200
    assert hashlib.sha256(f.content).hexdigest() == a["sha256"] and len(f.content) == a["bytes"]
    assert f.headers["Content-Type"] == TYPES[ext]
    assert f.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert f.headers["X-Content-Type-Options"] == "nosniff"
    assert len(media_files(stack, a["sha256"])) == 1
    assert assert_json(user.req("GET", f"/api/assets/{a['id']}"), 200)["id"] == a["id"]


def test_raw_body_upload_with_filename(stack, user):
    r = upload_raw(user, fixture("photo.webp"), "image/webp", "?filename=banner.webp")
    a = assert_json(r, 201)
    assert a["contentType"] == "image/webp" and a["filename"] == "banner.webp"
    # the declared type does not matter, the bytes do
    a2 = assert_json(upload_raw(user, fixture("photo.gif"), "image/png"), 201)
    assert a2["contentType"] == "image/gif" and a2["filename"] == "image.gif"


def test_exif_and_gps_are_stripped(stack, user):
    original = fixture("exif-gps.jpg")
    assert b"ADCRAFT-EXIF-MARKER" in original and b"Exif\0\0" in original
    a = assert_json(upload(user, original, "exif.jpg"), 201)
    stored = fetch(stack, a["url"]).content
    assert stored[:3] == b"\xff\xd8\xff"
    assert b"ADCRAFT-EXIF-MARKER" not in stored and b"Exif\0\0" not in stored
    assert b"http://ns.adobe.com/xap" not in stored  # no XMP either
    assert a["sha256"] != hashlib.sha256(original).hexdigest()


def refusal_count(stack):
    return stack.scalar("SELECT count(*) FROM assets")


@pytest.mark.parametrize("name,data,part_type", [
    ("logo.svg", b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="10" height="10"/></svg>',
     "image/svg+xml"),
    ("page.html", b"<!doctype html><html><body><img src=x onerror=alert(1)></body></html>", "text/html"),
    ("fake.png", b"\x89PNG\r\n\x1a\n<html><script>alert(1)</script></html>" + b"\0" * 64, "image/png"),
    ("truncated.png", None, "image/png"),
    ("truncated.jpg", None, "image/jpeg"),
    ("empty-ish.gif", b"GIF89a", "image/gif"),
])
def test_not_an_accepted_image_is_415(stack, user, name, data, part_type):
    if data is None:
        whole = fixture("photo." + name.split(".")[1])
        data = whole[:len(whole) // 2]
    wait_jobs_idle(stack)
    before = refusal_count(stack)
    files_before = media_file_count(stack)
    body = assert_problem(upload(user, data, name, part_type), 415)
    assert body["detail"]
    assert refusal_count(stack) == before
    assert media_file_count(stack) == files_before


def media_file_count(stack):
    return len(glob.glob(os.path.join(stack.dir, "media", "*", "*")))


def wait_jobs_idle(stack, timeout=30):
    """Earlier tests' renditions jobs are done (so they write no files meanwhile)."""
    deadline = time.monotonic() + timeout
    while stack.scalar("SELECT count(*) FROM jobs WHERE queue = 'data-exports' AND state IN ('queued', 'running')"):
        assert time.monotonic() < deadline, "renditions jobs still running"
        time.sleep(0.1)


def test_other_body_types_are_415(stack, user):
    assert_problem(upload_raw(user, b"hello", "text/plain"), 415)
    assert_problem(upload_raw(user, b'{"file": "x"}', "application/json"), 415)
    assert_problem(upload_raw(user, b"<svg/>", "image/svg+xml"), 415)


def test_malformed_forms_are_400(stack, user):
    ct = "multipart/form-data; boundary=XyZ"
    assert_problem(upload_raw(user, b"--XyZ\r\nContent-Disposition: form-data; name=\"file\"\r\n\r\nabc", ct), 400)
    assert_problem(upload_raw(user, b"--XyZ\r\nContent-Disposition: form-data; name=\"other\"\r\n\r\nabc\r\n--XyZ--",
                              ct), 400)
    assert_problem(upload_raw(user, b"", "image/png"), 400)


def test_too_large_is_413(stack, user):
    big = b"\x89PNG\r\n\x1a\n" + b"\0" * (10 * 1024 * 1024)
    body = assert_problem(upload_raw(user, big, "image/png"), 413)
    assert "10485760" in body["detail"]
    # past nginx's own limit (11m): its problem page
    body = assert_problem(upload_raw(user, b"\0" * (12 * 1024 * 1024), "image/png"), 413)
    assert "asset_max_bytes" in body["detail"]


def test_more_than_50_megapixels_is_422_without_decoding(stack, user):
    # 8000 x 7500 = 60 MP of one colour: a small file (a decompression bomb)
    row = b"\x10\x20\x30" * 8000
    data = png(8000, 7500, lambda y: row)
    assert len(data) < 400000
    t = time.monotonic()
    body = assert_problem(upload(user, data, "bomb.png", "image/png"), 422)
    assert "60000000" in body["detail"] and "50000000" in body["detail"]
    assert time.monotonic() - t < 5
    # the header is checked before any decode: a 60 MP header on a few bytes of data is the same
    head = png(8000, 7500, lambda y: row)[:200]
    assert upload(user, head, "bomb2.png", "image/png").status_code in (415, 422)


@pytest.mark.parametrize("width,height,why", [
    (1000000, 50, "neither side may exceed 16384"),   # 50 MP in 48 KB: a minute and 1.2 GB a rendition
    (50, 1000000, "neither side may exceed 16384"),
    (4200, 200, "at most 20 times"),
    (200, 4200, "at most 20 times"),
])
def test_extreme_sides_are_422_without_decoding(stack, user, width, height, why):
    row = bytes([0x4d]) * width
    # one grey channel (colour type 0) keeps the biggest of these a few kB
    z = zlib.compressobj(9)
    idat = b"".join(z.compress(b"\0" + row) for _ in range(height)) + z.flush()

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    data = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", idat) + chunk(b"IEND", b""))
    before = stack.scalar("SELECT count(*) FROM assets")
    body = assert_problem(upload(user, data, "wide.png", "image/png"), 422)
    assert why in body["detail"] and f"{width}x{height}" in body["detail"], body
    assert stack.scalar("SELECT count(*) FROM assets") == before


def test_a_banner_at_the_widest_ratio_is_stored(stack, user):
    a = assert_json(upload(user, unique_png(970, 90), "billboard.png"), 201)
    assert (a["width"], a["height"]) == (970, 90)
    a = wait_renditions(user, a["id"])
    assert set(a["renditions"]) == set(RENDITIONS)


def test_a_busy_file_lock_is_409_not_a_wait(stack, user):
    """A rendition job holds the file's lock while it resizes: the API answers 409 with Retry-After
    instead of holding an API process until the job lets go (it waited, 25 s, with every process
    of the pool behind it)."""
    data = unique_png()
    a = assert_json(upload(user, data, "busy.png"), 201)
    wait_renditions(user, a["id"])
    with stack.db() as held:
        held.execute("SELECT pg_advisory_lock(asset_lock_key(%s))", (a["sha256"],))
        r = user.req("DELETE", f"/api/assets/{a['id']}")
        body = assert_problem(r, 409)
        assert "renditions" in body["detail"] and r.headers["Retry-After"] == "5", (body, r.headers)
        again = upload(user, data, "busy-again.png")
        body = assert_problem(again, 409)
        assert again.headers["Retry-After"] == "5" and "retry" in body["detail"], body
        assert user.req("GET", f"/api/assets/{a['id']}").status_code == 200, "nothing deleted"
        held.execute("SELECT pg_advisory_unlock(asset_lock_key(%s))", (a["sha256"],))
    assert_json(upload(user, data, "busy-again.png"), 200)
    assert user.req("DELETE", f"/api/assets/{a['id']}").status_code == 204


def test_quota_is_413_with_the_quota(stack, user):
    # noise does not compress: about 360 kB stored, twice that is over the quota
    rnd = os.urandom(400 * 300 * 3)
    first = png(400, 300, lambda y: rnd[y * 1200:(y + 1) * 1200])
    a = assert_json(upload(user, first, "noise1.png"), 201)
    assert a["bytes"] < ASSET_QUOTA < 2 * a["bytes"]
    rnd2 = os.urandom(400 * 300 * 3)
    second = png(400, 300, lambda y: rnd2[y * 1200:(y + 1) * 1200])
    before = refusal_count(stack)
    body = assert_problem(upload(user, second, "noise2.png"), 413)
    assert str(ASSET_QUOTA) in body["detail"]
    assert body["quotaBytes"] == ASSET_QUOTA and body["usedBytes"] == a["bytes"]
    assert a["bytes"] + body["imageBytes"] > ASSET_QUOTA
    assert refusal_count(stack) == before
    sha2 = hashlib.sha256(second).hexdigest()  # (the stored bytes differ; nothing new on disk at all)
    assert not media_files(stack, sha2)
    # another user has a quota of their own
    other = User(stack)
    assert_json(upload(other, second, "noise2.png"), 201)


def test_same_bytes_are_one_file_and_one_asset_per_owner(stack, user):
    data = fixture("photo.png")
    a = assert_json(upload(user, data, "one.png"), 201)
    again = upload(user, data, "two.png", "image/png")
    b = assert_json(again, 200)
    assert b["id"] == a["id"]
    other = User(stack)
    c = assert_json(upload(other, data, "three.png"), 201)
    assert c["id"] != a["id"] and c["sha256"] == a["sha256"] and c["url"] == a["url"]
    assert len(media_files(stack, a["sha256"])) == 1
    assert stack.scalar("SELECT count(*) FROM assets WHERE sha256 = %s", (a["sha256"],)) >= 2
    # the other user's copy survives this user's delete, and the file too
    assert user.req("DELETE", f"/api/assets/{a['id']}").status_code == 204
    assert fetch(stack, c["url"]).status_code == 200
    assert other.req("DELETE", f"/api/assets/{c['id']}").status_code == 204


def test_renditions_are_made_by_a_job(stack, user):
    a = assert_json(upload(user, unique_png(), "r.png"), 201)
    a = wait_renditions(user, a["id"])
    assert set(a["renditions"]) == set(RENDITIONS)
    for name, (w, h) in RENDITIONS.items():
        r = a["renditions"][name]
        assert (r["width"], r["height"]) == (w, h), (name, r)
        f = fetch(stack, r["url"])
        assert f.status_code == 200 and f.headers["Content-Type"] == "image/png"
        assert png_size(f.content) == (w, h)
        assert hashlib.sha256(f.content).hexdigest() == r["sha256"]
        assert f.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    job = stack.scalar("SELECT state FROM jobs WHERE queue = 'data-exports' AND kind = 'asset-renditions'"
                       " AND payload->>'assetId' = %s", (a["id"],))
    assert job == "completed"
    # deleting the asset removes the renditions' files too
    urls = [a["url"]] + [r["url"] for r in a["renditions"].values()]
    assert user.req("DELETE", f"/api/assets/{a['id']}").status_code == 204
    for u in urls:
        assert fetch(stack, u).status_code == 404, u


def test_list_is_keyset_paginated_and_owned(stack, user):
    ids = []
    for ext in ("png", "jpg", "webp"):
        ids.append(assert_json(upload(user, fixture("photo." + ext), "p." + ext), 201)["id"])
    page = assert_json(user.req("GET", "/api/assets?limit=2"), 200)
    assert [x["id"] for x in page["items"]] == ids[::-1][:2] and page["nextCursor"]
    rest = assert_json(user.req("GET", f"/api/assets?limit=2&cursor={page['nextCursor']}"), 200)
    assert [x["id"] for x in rest["items"]] == ids[:1] and rest["nextCursor"] is None
    other = User(stack)
    assert assert_json(other.req("GET", "/api/assets"), 200)["items"] == []
    assert_problem(other.req("GET", f"/api/assets/{ids[0]}"), 404)
    assert_problem(other.req("DELETE", f"/api/assets/{ids[0]}"), 404)
    assert_problem(user.req("GET", f"/api/assets/{uuid.uuid4()}"), 404)
    assert_problem(user.req("GET", "/api/assets?bogus=1"), 400)


def test_media_location_serves_only_stored_files(stack, user):
    a = assert_json(upload(user, fixture("photo.jpg"), "m.jpg"), 201)
    head = stack.url(a["url"])
    assert requests.head(head, timeout=10).status_code == 200
    assert requests.post(head, timeout=10).status_code in (403, 405)
    for path in ("/media/", f"/media/{a['sha256'][:2]}/", "/media/../adcraft.conf",
                 f"/media/{a['sha256'][:2]}/{a['sha256']}.txt", "/media/aa/bb.png",
                 f"/media/{a['sha256'][:2]}/{a['sha256'].upper()}.jpg"):
        r = requests.get(stack.url(path), timeout=10)
        assert r.status_code in (400, 404), (path, r.status_code)
        assert "image/" not in r.headers.get("Content-Type", "")
    # a temporary file in the media directory is never served
    tmp = os.path.join(stack.dir, "media", a["sha256"][:2], ".tmp-x")
    with open(tmp, "wb") as f:
        f.write(b"secret")
    assert requests.get(stack.url(f"/media/{a['sha256'][:2]}/.tmp-x"), timeout=10).status_code == 404
    os.unlink(tmp)


def test_visual_asset_id_on_content_items(stack, user):
    a = assert_json(upload(user, unique_png(), "v.png"), 201)
    camp = user.campaign()
    item = user.content(camp["id"], visualAssetId=a["id"].upper())
    assert item["visualAssetId"] == a["id"] and item["visualUrl"] == a["url"]
    # in use: 409, nothing deleted
    body = assert_problem(user.req("DELETE", f"/api/assets/{a['id']}"), 409)
    assert "visualAssetId" in body["detail"]
    assert fetch(stack, a["url"]).status_code == 200
    # another user's asset, or none: 422 naming the field
    other = User(stack)
    theirs = assert_json(upload(other, fixture("photo.gif"), "t.gif"), 201)
    base = {"contentType": "social_post", "platform": "linkedin", "contentBody": "Hello there, world."}
    assert_problem(user.req("POST", f"/api/campaigns/{camp['id']}/content",
                            json={**base, "visualAssetId": theirs["id"]}), 422, ["visualAssetId"])
    assert_problem(user.req("PATCH", f"/api/campaigns/{camp['id']}/content/{item['id']}",
                            json={"visualAssetId": str(uuid.uuid4())}), 422, ["visualAssetId"])
    # clearing the visual frees the asset
    r = assert_json(user.req("PATCH", f"/api/campaigns/{camp['id']}/content/{item['id']}",
                             json={"visualAssetId": None}), 200)
    assert r["visualAssetId"] is None and r["visualUrl"] is None
    assert user.req("DELETE", f"/api/assets/{a['id']}").status_code == 204
    assert fetch(stack, a["url"]).status_code == 404
    assert not media_files(stack, a["sha256"])
    # PATCH setting it again, then deleting the content item frees it too
    b = assert_json(upload(user, fixture("photo.webp"), "w.webp"), 201)
    r = assert_json(user.req("PATCH", f"/api/campaigns/{camp['id']}/content/{item['id']}",
                             json={"visualAssetId": b["id"]}), 200)
    assert r["visualUrl"] == b["url"]
    assert_problem(user.req("DELETE", f"/api/assets/{b['id']}"), 409)
    assert user.req("DELETE", f"/api/campaigns/{camp['id']}/content/{item['id']}").status_code == 204
    assert user.req("DELETE", f"/api/assets/{b['id']}").status_code == 204


def test_unauthenticated_is_401(stack):
    r = requests.post(stack.url("/api/assets"), files={"file": ("a.png", fixture("photo.png"), "image/png")},
                      timeout=10)
    assert_problem(r, 401)
    assert_problem(requests.get(stack.url("/api/assets"), timeout=10), 401)


def test_token_of_a_deleted_account_stores_nothing(stack):
    """A valid token whose users row is gone: 401, no row and no file (the new file is unlinked)."""
    gone = User(stack)
    data = unique_png()
    with stack.db() as conn:
        conn.execute("DELETE FROM users WHERE id = %s", (gone.id,))
    wait_jobs_idle(stack)
    files = media_file_count(stack)
    assert_problem(upload(gone, data, "gone.png"), 401)
    assert_problem(upload_raw(gone, b"", "image/png"), 400)
    assert media_file_count(stack) == files
    assert stack.scalar("SELECT count(*) FROM assets WHERE user_id = %s", (gone.id,)) == 0


def test_nginx_errors_on_the_upload_location_are_problems(stack, user):
    """location = /api/assets has error_pages of its own (its 413): every one of /api/'s must be
    there too. The slow pool's socket (uploads go there, without kept connections) moved away:
    nginx's 502 becomes /api/'s 503 problem."""
    sock = os.path.join(stack.dir, "run", "api-slow.sock")
    os.rename(sock, sock + ".away")
    try:
        body = assert_problem(upload(user, fixture("photo.png"), "p.png"), 503)
        assert "temporarily unavailable" in body["detail"]
    finally:
        os.rename(sock + ".away", sock)
    assert_json(upload(user, fixture("photo.png"), "p.png"), 201)


def test_concurrent_uploads_of_the_same_bytes_are_one_asset(stack, user):
    from concurrent.futures import ThreadPoolExecutor
    data = unique_png()
    with ThreadPoolExecutor(4) as pool:
        rs = list(pool.map(lambda i: upload(user, data, f"same{i}.png"), range(4)))
    codes = sorted(r.status_code for r in rs)
    assert codes == [200, 200, 200, 201], [(r.status_code, r.text[:200]) for r in rs]
    assert len({r.json()["id"] for r in rs}) == 1
    sha = rs[0].json()["sha256"]
    assert stack.scalar("SELECT count(*) FROM assets WHERE sha256 = %s", (sha,)) == 1
    assert len(media_files(stack, sha)) == 1


def test_concurrent_uploads_cannot_both_pass_the_quota(stack, user):
    from concurrent.futures import ThreadPoolExecutor
    pictures = []
    for _ in range(3):
        rnd = os.urandom(400 * 300 * 3)  # ~360 kB each: only one fits the quota
        pictures.append(png(400, 300, lambda y, rnd=rnd: rnd[y * 1200:(y + 1) * 1200]))
    with ThreadPoolExecutor(3) as pool:
        rs = list(pool.map(lambda p: upload(user, p, "n.png"), pictures))
    assert sorted(r.status_code for r in rs) == [201, 413, 413], [r.status_code for r in rs]
    assert stack.scalar("SELECT coalesce(sum(bytes), 0) FROM assets WHERE user_id = %s", (user.id,)) <= ASSET_QUOTA
