"""adcraft migrate: ordered, once, under an advisory lock, refusing edited files."""

import glob
import os
import shutil
import subprocess
import tempfile

import pytest

from helpers import BUILD_DIR, SOURCE_DIR


def migrate(stack, dbname, sql_dir, env_extra=None):
    env = dict(os.environ)
    env.update({
        "ADCRAFT_MIGRATE_DATABASE_URL": f"host={stack.pg_socket_dir} port={stack.pg_port} dbname={dbname} user=postgres",
        "ADCRAFT_SQL_DIR": sql_dir,
    })
    env.update(env_extra or {})
    return subprocess.Popen([os.path.join(BUILD_DIR, "adcraft"), "--config", os.path.join(stack.dir, "adcraft.conf"),
                             "migrate"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


@pytest.fixture
def fresh_db(stack):
    name = "migrate_" + os.urandom(4).hex()
    with stack.db() as conn:
        conn.execute(f"CREATE DATABASE {name}")
    yield name
    with stack.db() as conn:
        conn.execute(f"DROP DATABASE {name} WITH (FORCE)")


def applied(stack, dbname):
    import psycopg
    with psycopg.connect(host=stack.pg_socket_dir, port=stack.pg_port, dbname=dbname, user="postgres",
                         autocommit=True) as conn:
        return conn.execute("SELECT version, name, checksum FROM schema_migrations ORDER BY version").fetchall()


def test_concurrent_runs_apply_each_file_once(stack, fresh_db):
    sql_dir = os.path.join(SOURCE_DIR, "sql")
    files = sorted(os.path.basename(p) for p in glob.glob(os.path.join(sql_dir, "[0-9][0-9][0-9][0-9]_*.sql")))
    procs = [migrate(stack, fresh_db, sql_dir) for _ in range(3)]
    outs = [p.communicate(timeout=120) for p in procs]
    assert all(p.returncode == 0 for p in procs), outs
    # Exactly one run applied everything; the others found nothing to do.
    applied_counts = sorted(o[0].count("applied 0") for o in outs)
    assert applied_counts == [0, 0, len(files)], outs
    rows = applied(stack, fresh_db)
    assert [r[1] for r in rows] == files
    assert len({r[2] for r in rows}) == len(files)  # checksums recorded

    again = migrate(stack, fresh_db, sql_dir)
    out, err = again.communicate(timeout=60)
    assert again.returncode == 0, err
    assert f"0 applied, {len(files)} already current" in out
    assert applied(stack, fresh_db) == rows


def test_edited_migration_is_refused(stack, fresh_db):
    work = tempfile.mkdtemp()
    try:
        first = sorted(glob.glob(os.path.join(SOURCE_DIR, "sql", "0001_*.sql")))[0]
        shutil.copy(first, work)
        p = migrate(stack, fresh_db, work)
        out, err = p.communicate(timeout=60)
        assert p.returncode == 0, err
        with open(os.path.join(work, os.path.basename(first)), "a") as f:
            f.write("\n-- edited after it was applied\n")
        shutil.copy(sorted(glob.glob(os.path.join(SOURCE_DIR, "sql", "0002_*.sql")))[0], work)
        p = migrate(stack, fresh_db, work)
        out, err = p.communicate(timeout=60)
        assert p.returncode != 0
        assert "changed after it was applied" in err
        assert len(applied(stack, fresh_db)) == 1, "nothing after the refusal was applied"
    finally:
        shutil.rmtree(work)


def test_failing_migration_rolls_back_whole_file(stack, fresh_db):
    work = tempfile.mkdtemp()
    try:
        with open(os.path.join(work, "0001_ok.sql"), "w") as f:
            f.write("CREATE TABLE t_ok (id int);\n")
        with open(os.path.join(work, "0002_bad.sql"), "w") as f:
            f.write("CREATE TABLE t_half (id int);\nSELECT no_such_function();\n")
        p = migrate(stack, fresh_db, work)
        out, err = p.communicate(timeout=60)
        assert p.returncode != 0 and "0002_bad.sql" in err
        import psycopg
        with psycopg.connect(host=stack.pg_socket_dir, port=stack.pg_port, dbname=fresh_db, user="postgres",
                             autocommit=True) as conn:
            tables = {r[0] for r in conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")}
        assert "t_ok" in tables and "t_half" not in tables, tables
        assert [r[1] for r in applied(stack, fresh_db)] == ["0001_ok.sql"]
    finally:
        shutil.rmtree(work)
