"""Backup and restore as docs/operations.md ("Backup and restore") describes it.

Data is made through the API of one stack (an account, a persona, a campaign
with a content item, contacts in a list, an uploaded image). The backup is
what the document says to take: `pg_dumpall --roles-only`, `pg_dump -Fc` of
the database, a copy of media_dir and of the secrets. The restore goes into a
second stack's fresh PostgreSQL cluster (its own initdb): roles, then
`pg_restore`, the media files and the JWT key put back, then `adcraft
migrate` (a no-op: every migration is recorded as applied) and the API
started against it. Every GET answered by the first stack is answered the
same, byte for byte, by the second, with the same access token; the image is
served under /media/ with the same bytes.
"""

import os
import shutil
import struct
import subprocess
import zlib

import pytest
import requests

from helpers import RELAXED_LIMITS, Stack

PGBIN = "/usr/lib/postgresql/15/bin"


def pg(stack, tool, *args, **kw):
    """A PostgreSQL client tool as the postgres role on the stack's cluster."""
    cmd = [os.path.join(PGBIN, tool), "-h", stack.pg_socket_dir, "-p", str(stack.pg_port), "-U", "postgres", *args]
    return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120, **kw)


def png():
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    rows = b"".join(b"\0" + bytes((x * 7 + y) % 256 for x in range(96)) for y in range(24))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 32, 24, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


def make_data(stack):
    _, token, _ = stack.register_user(name="Backup Owner")
    h = {"Authorization": f"Bearer {token}"}

    def ok(method, path, body=None, status=201):
        r = requests.request(method, stack.url(path), json=body, headers=h, timeout=30)
        assert r.status_code == status, (method, path, r.status_code, r.text)
        return r.json()
    persona = ok("POST", "/api/personas", {"name": "Busy founder", "description": "Runs a small SaaS company."})
    c = ok("POST", "/api/campaigns", {"name": "Restore me", "objective": "awareness", "personaId": persona["id"],
                                       "keywords": "backup, restore"})
    ok("POST", f"/api/campaigns/{c['id']}/content", {
        "contentType": "social_post", "platform": "linkedin",
        "contentBody": "Backups are only real once a restore has been tested."})
    ids = [ok("POST", "/api/contacts", {"email": f"c{i}@example.com", "firstName": f"C{i}"})["id"] for i in range(3)]
    lst = ok("POST", "/api/lists", {"name": "Restored list"})
    ok("POST", f"/api/lists/{lst['id']}/members", {"contactIds": ids}, status=200)
    r = requests.post(stack.url("/api/assets"), files={"file": ("b.png", png(), "image/png")}, headers=h, timeout=30)
    assert r.status_code == 201, r.text
    asset = r.json()
    paths = ["/api/auth/me", "/api/personas", f"/api/personas/{persona['id']}", "/api/campaigns",
             f"/api/campaigns/{c['id']}", f"/api/campaigns/{c['id']}/content", "/api/contacts", "/api/lists",
             f"/api/lists/{lst['id']}", "/api/assets", f"/api/assets/{asset['id']}"]
    return h, paths, asset


def answers(stack, headers, paths):
    out = {}
    for p in paths:
        r = requests.get(stack.url(p), headers=headers, timeout=30)
        assert r.status_code == 200, (p, r.status_code, r.text)
        out[p] = r.content
    return out


@pytest.fixture(scope="module")
def backup(tmp_path_factory):
    d = tmp_path_factory.mktemp("backup")
    os.chmod(d, 0o755)
    with Stack.start(RELAXED_LIMITS) as s:
        headers, paths, asset = make_data(s)
        before = answers(s, headers, paths)
        media = requests.get(s.url(asset["url"]), timeout=10)
        assert media.status_code == 200
        # the backup, in the order docs/operations.md gives: roles, database, then files and secrets
        roles = pg(s, "pg_dumpall", "--roles-only")
        assert roles.returncode == 0, roles.stderr
        (d / "roles.sql").write_bytes(roles.stdout)
        dump = pg(s, "pg_dump", "-Fc", "-d", "adcraft", "-f", str(d / "adcraft.dump"))
        assert dump.returncode == 0, dump.stderr
        shutil.copytree(os.path.join(s.dir, "media"), d / "media")
        shutil.copy(os.path.join(s.dir, "jwt.key"), d / "jwt.key")
    return d, headers, paths, before, asset, media.content


def test_a_dump_restored_into_a_fresh_cluster_serves_the_same_data(backup):
    d, headers, paths, before, asset, image = backup
    s = Stack(RELAXED_LIMITS)
    try:
        s.dev("pg", "start")  # initdb: a new cluster, an empty database adcraft
        assert s.scalar("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'") == 0
        roles = pg(s, "psql", "-X", "-q", "-d", "postgres", "-f", str(d / "roles.sql"))
        assert roles.returncode == 0, roles.stderr  # "role postgres already exists" is only a notice on stderr
        restore = pg(s, "pg_restore", "--exit-on-error", "-d", "adcraft", str(d / "adcraft.dump"))
        assert restore.returncode == 0, restore.stderr.decode()
        shutil.copytree(d / "media", os.path.join(s.dir, "media"))
        shutil.copy(d / "jwt.key", os.path.join(s.dir, "jwt.key"))
        os.chmod(os.path.join(s.dir, "jwt.key"), 0o600)
        s.up()  # adcraft migrate (nothing to apply), then the API against the restored database
        assert "0 applied" in s.up_output, s.up_output
        after = answers(s, headers, paths)
        for p in paths:
            assert after[p] == before[p], f"{p}:\nbefore {before[p][:500]!r}\nafter  {after[p][:500]!r}"
        served = requests.get(s.url(asset["url"]), timeout=10)
        assert served.status_code == 200 and served.content == image
        # what the restored roles may do is what they could: the API's role cannot read password hashes
        with s.db() as conn:
            assert conn.execute("SELECT has_column_privilege('adcraft_analyst', 'users', 'password_hash', "
                                "'SELECT')").fetchone()[0] is False
    finally:
        s.down()
