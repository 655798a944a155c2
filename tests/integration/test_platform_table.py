"""The one table of content types, platforms and objectives (src/gen/platforms.c),
as `adcraft platforms` prints it, against everything else that lists them: the
SQL CHECKs and functions of a migrated database, the column comments, and the
enums of docs/openapi.yaml. Nothing here repeats the lists: each side is read."""

import json
import os
import re
import subprocess

import pytest
import yaml

from helpers import BUILD_DIR, SOURCE_DIR


@pytest.fixture(scope="module")
def table():
    out = subprocess.run([os.path.join(BUILD_DIR, "adcraft"), "platforms"], check=True, capture_output=True,
                         text=True, timeout=30).stdout
    return json.loads(out)


@pytest.fixture(scope="module")
def names(table):
    types = {t["name"]: [p["platform"] for p in t["platforms"]] for t in table["contentTypes"]}
    return {
        "platforms": [p["name"] for p in table["platforms"]],
        "types": list(types),
        "objectives": table["objectives"],
        "by_type": types,
    }


def quoted(text):
    return re.findall(r"'([a-z_]+)'", text)


def check_of(db, table, column):
    """The text of the one CHECK constraint on table.column: the table's, or its domain's (0039)."""
    rows = db.execute(
        """SELECT pg_get_constraintdef(c.oid)
             FROM pg_attribute a JOIN pg_constraint c
               ON c.contype = 'c' AND (c.conrelid = a.attrelid AND a.attnum = ANY (c.conkey) OR c.contypid = a.atttypid)
            WHERE a.attrelid = %s::regclass AND a.attname = %s""",
        (table, column)).fetchall()
    assert len(rows) == 1, f"one CHECK on {table}.{column}, found {rows}"
    return rows[0][0]


def function_text(db, signature):
    return db.execute("SELECT pg_get_functiondef(%s::regprocedure)", (signature,)).fetchone()[0]


def test_table_printed(table, names):
    assert names["platforms"] and names["types"] and names["objectives"]
    assert len(set(names["platforms"])) == len(names["platforms"])
    for platforms in names["by_type"].values():
        assert set(platforms) <= set(names["platforms"])
    assert set().union(*names["by_type"].values()) == set(names["platforms"]), "every platform takes a type"
    shapes = {p["shape"] for t in table["contentTypes"] for p in t["platforms"]}
    assert shapes == {"email", "social_post", "search_ad", "social_ad"}


def test_sql_checks_agree(db, names):
    assert quoted(check_of(db, "personas", "preferred_channels")) == names["platforms"]
    assert quoted(check_of(db, "campaigns", "objective")) == names["objectives"]
    assert quoted(check_of(db, "llm_usage", "content_type")) == names["types"]


def test_sql_functions_agree(db, names):
    tally = function_text(db, "content_tally(jsonb)")
    def compared(field):  # deparsed: ((e.value ->> 'platform'::text) = 'email'::text)
        return re.findall(r"->>\s*'" + field + r"'(?:::text)?\)?\s*=\s*'([a-z_]+)'", tally)

    assert compared("platform") == names["platforms"]
    assert compared("contentType") == names["types"]
    stats = function_text(db, "campaign_stats_of(uuid)")  # the JSON as text (0038); campaign_stats() casts it
    # objectives are tallied by campaigns' summary trigger (0021, 0026), once for the new row, once for the old
    trigger = function_text(db, "campaigns_owner_summary()")
    assert list(dict.fromkeys(re.findall(r"objective = '([a-z_]+)'", trigger))) == names["objectives"]

    def keys(after):  # deparsed: ... || '},"byType":{"email":'::text) || s.email) || ',"social_post":' ... '},
        m = re.search('"' + after + '":{(.*?)}', stats)
        assert m, f"campaign_stats_of writes {after}"
        return re.findall(r'"([a-z_]+)":', m.group(1))

    assert keys("byObjective") == names["objectives"]
    assert keys("byType") == names["types"]
    assert keys("byPlatform") == names["platforms"]


def test_dba_comments_agree(db, names):
    def comment(column):
        return db.execute("SELECT col_description('campaign_content'::regclass, attnum) FROM pg_attribute "
                          "WHERE attrelid = 'campaign_content'::regclass AND attname = %s", (column,)).fetchone()[0]

    assert re.findall(r"[a-z_]+", comment("platform").replace(" or ", ", ")) == names["platforms"]
    assert re.findall(r"[a-z_]+", comment("content_type").replace(" or ", ", ")) == names["types"]


def test_openapi_enums_agree(names):
    with open(os.path.join(SOURCE_DIR, "docs", "openapi.yaml"), encoding="utf-8") as f:
        schemas = yaml.safe_load(f)["components"]["schemas"]
    assert schemas["Platform"]["enum"] == names["platforms"]
    assert schemas["ContentType"]["enum"] == names["types"]
    assert schemas["Objective"]["enum"] == names["objectives"]
    for request, content_type in (("GenerateEmailRequest", "email"), ("GenerateSocialRequest", "social_post"),
                                  ("GenerateAdCopyRequest", "ad_copy")):
        assert schemas[request]["properties"]["platform"]["enum"] == names["by_type"][content_type], request
