"""`meson install` lays adcraft out like a distribution package (issue #15 section 2).

The build under test is installed into a temporary --destdir and the tree is
checked against the source: binaries, every migration byte for byte, every
nginx file, the units with sysusers.d and tmpfiles.d entries, the example
configuration, the browser assets and the docs. The installed units are rated
by `systemd-analyze security --offline=yes` (Debian 12's systemd 252; no PID 1
needed): adcraft-api at most 1.0, adcraft-worker at most 1.5, enforced with
--threshold as well as read from the output. The sysusers.d and tmpfiles.d
entries are applied to a scratch root (--root) and the result checked.
No stack is started.
"""

import filecmp
import glob
import os
import re
import shutil
import stat
import subprocess
import tempfile

import pytest

from deploy_helpers import Unit, install
from helpers import SOURCE_DIR


@pytest.fixture(scope="module")
def tree():
    d = tempfile.mkdtemp(prefix="adcraft-install-", dir="/tmp")
    try:
        yield install(d)
    finally:
        shutil.rmtree(d, ignore_errors=True)


def source_files(pattern):
    return sorted(glob.glob(os.path.join(SOURCE_DIR, pattern)))


def test_binaries_are_installed_and_run(tree):
    for name in ("adcraft", "adcraft-api", "adcraft-worker"):
        path = tree.path(tree.bindir, name)
        assert os.access(path, os.X_OK), path
        p = subprocess.run([path, "--version"], stdout=subprocess.PIPE, text=True, timeout=10)
        assert p.returncode == 0 and re.match(r"^\d+\.\d+\.\d+$", p.stdout.strip()), (name, p.stdout)


def test_every_migration_is_installed_unchanged(tree):
    sql = source_files("sql/*.sql")
    assert len(sql) >= 20
    for f in sql:
        installed = tree.path(tree.datadir, "adcraft", "sql", os.path.basename(f))
        assert filecmp.cmp(f, installed, shallow=False), installed
    assert len(glob.glob(tree.path(tree.datadir, "adcraft", "sql", "*.sql"))) == len(sql)


def test_nginx_files(tree):
    confs = [f for f in source_files("nginx/*.conf")]
    assert any(f.endswith("/adcraft.conf") for f in confs) and len(confs) >= 10
    for f in confs:
        installed = tree.path(tree.sysconfdir, "nginx", "adcraft", os.path.basename(f))
        assert filecmp.cmp(f, installed, shallow=False), installed
    # the dev template is not production configuration
    assert not os.path.exists(tree.path(tree.sysconfdir, "nginx", "adcraft", "dev.conf.in"))
    for f in source_files("nginx/*.example"):
        installed = tree.path(tree.datadir, "adcraft", "nginx", os.path.basename(f))
        assert filecmp.cmp(f, installed, shallow=False), installed


def test_units_sysusers_tmpfiles(tree):
    names = ["adcraft-api.socket", "adcraft-api-slow.socket", "adcraft-api.service", "adcraft-migrate.service", "adcraft-worker.service"]
    for name in names:
        assert filecmp.cmp(os.path.join(SOURCE_DIR, "systemd", name), os.path.join(tree.unitdir, name),
                           shallow=False), name
    assert filecmp.cmp(os.path.join(SOURCE_DIR, "systemd/adcraft.sysusers"),
                       tree.path(tree.prefix, "lib", "sysusers.d", "adcraft.conf"), shallow=False)
    assert filecmp.cmp(os.path.join(SOURCE_DIR, "systemd/adcraft.tmpfiles"),
                       tree.path(tree.prefix, "lib", "tmpfiles.d", "adcraft.conf"), shallow=False)


def test_example_config_web_assets_and_docs(tree):
    assert filecmp.cmp(os.path.join(SOURCE_DIR, "docs/adcraft.conf.example"),
                       tree.path(tree.datadir, "adcraft", "adcraft.conf.example"), shallow=False)
    web = [f for f in glob.glob(os.path.join(SOURCE_DIR, "web", "**"), recursive=True) if os.path.isfile(f)]
    assert web
    for f in web:
        rel = os.path.relpath(f, SOURCE_DIR)
        assert filecmp.cmp(f, tree.path(tree.datadir, "adcraft", rel), shallow=False), rel
    for f in filter(os.path.isfile, source_files("docs/*")):
        assert os.path.isfile(tree.path(tree.datadir, "doc", "adcraft", os.path.basename(f))), f


def test_units_need_what_each_program_needs(tree):
    api = Unit(os.path.join(tree.unitdir, "adcraft-api.service"))
    worker = Unit(os.path.join(tree.unitdir, "adcraft-worker.service"))
    migrate = Unit(os.path.join(tree.unitdir, "adcraft-migrate.service"))
    for u in (api, worker):
        assert u.get("Type") == "notify" and u.get("NotifyAccess") == "main", u.name
        assert u.get("WatchdogSec"), u.name
        assert u.get("User") and u.get("Group") == "adcraft", u.name
        assert "adcraft-migrate.service" in u.get("Requires", section="Unit").split()
        assert "adcraft-migrate.service" in u.get("After", section="Unit").split()
    assert migrate.get("Type") == "oneshot"
    api_creds = dict(api.credentials())
    assert {"jwt.key", "edge.key"} <= set(api_creds), api_creds
    assert "jwt.key" not in dict(worker.credentials()) and not migrate.credentials()
    assert "ADCRAFT_JWT_SECRET_FILE" not in worker.environment({"%d": "/x"})
    assert worker.get("StateDirectory").split() == ["adcraft/media", "adcraft/exports"]
    assert set(api.get("ReadWritePaths").split()) == {"/var/lib/adcraft/media", "/var/lib/adcraft/exports"}


def test_check_config_requires_per_program(tree):
    """The installed example, as is, with only the API's secrets missing: the worker's and
    migrate's checks pass, the API's names the missing key (no database is contacted)."""
    conf = tree.path(tree.datadir, "adcraft", "adcraft.conf.example")
    adcraft = tree.path(tree.bindir, "adcraft")
    env = {k: v for k, v in os.environ.items() if not k.startswith("ADCRAFT_")}

    def check(program):
        return subprocess.run([adcraft, "--config", conf, "check-config", "--for", program], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=30)
    for program in ("worker", "cli"):
        p = check(program)
        assert p.returncode == 0 and f"# configuration is valid for {program}" in p.stdout, p.stderr
    p = check("api")
    assert p.returncode == 1 and "jwt_secret_file is not set" in p.stderr, p
    p = check("bogus")
    assert p.returncode == 2 and "usage" in p.stderr, p


EXPOSURE_RE = re.compile(r"Overall exposure level for (\S+): (\d+\.\d+)")


@pytest.mark.parametrize("name, limit", [("adcraft-api.service", 1.0), ("adcraft-worker.service", 1.5)])
def test_systemd_analyze_security(tree, name, limit):
    # --threshold takes the level times ten; over it the command exits non-zero
    cmd = ["systemd-analyze", "security", "--offline=yes", f"--threshold={int(limit * 10)}",
           f"--root={tree.destdir}", os.path.join(tree.unitdir, name)]
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=60)
    m = EXPOSURE_RE.search(p.stdout)
    assert m, p.stdout
    level = float(m.group(2))
    print(f"{name}: exposure {level}")
    assert level <= limit, p.stdout
    assert p.returncode == 0, p.stdout
    # the file parsed cleanly: systemd ignores what it does not understand, with a warning
    assert "Ignoring" not in p.stdout and "Unknown" not in p.stdout, p.stdout


def test_sysusers_and_tmpfiles_apply(tree):
    root = tempfile.mkdtemp(prefix="adcraft-root-", dir="/tmp")
    try:
        os.makedirs(os.path.join(root, "etc"))
        users = tree.path(tree.prefix, "lib", "sysusers.d", "adcraft.conf")
        p = subprocess.run(["systemd-sysusers", f"--root={root}", users], stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True, timeout=30)
        assert p.returncode == 0, p.stdout
        passwd = {line.split(":")[0]: line.split(":") for line in open(os.path.join(root, "etc/passwd"))}
        group = {line.split(":")[0]: line.strip().split(":") for line in open(os.path.join(root, "etc/group"))}
        gid = group["adcraft"][2]
        for user in ("adcraft_api", "adcraft_worker"):
            assert passwd[user][3] == gid, passwd[user]  # primary group adcraft
            assert int(passwd[user][2]) < 1000, passwd[user]  # a system user
        assert "www-data" in group["adcraft"][3].split(","), group["adcraft"]
        tmpfiles = tree.path(tree.prefix, "lib", "tmpfiles.d", "adcraft.conf")
        p = subprocess.run(["systemd-tmpfiles", "--create", f"--root={root}", tmpfiles], stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True, timeout=30)
        assert p.returncode == 0, p.stdout
        for path, mode, owner in (("var/lib/adcraft/media", 0o2770, "adcraft_worker"),
                                  ("var/lib/adcraft/exports", 0o2770, "adcraft_worker"),
                                  ("run/adcraft", 0o755, "root")):
            st = os.stat(os.path.join(root, path))
            assert stat.S_IMODE(st.st_mode) == mode, (path, oct(st.st_mode))
            want_uid = 0 if owner == "root" else int(passwd[owner][2])
            assert st.st_uid == want_uid and (owner == "root" or st.st_gid == int(gid)), (path, st)
    finally:
        shutil.rmtree(root, ignore_errors=True)
