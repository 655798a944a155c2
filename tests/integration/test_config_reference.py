"""The configuration reference is complete and has nothing extra: the keys
adcraft reads (the one table `keys[]` in src/core/config.c) are exactly the
keys documented in docs/configuration.md (a row `| \\`key\\` | ...` of a key
table) and exactly the keys of docs/adcraft.conf.example (`key = ...` or, for
an optional key, `#key = ...`), each once. No stack: it starts no server.
"""

import collections
import os
import re

from helpers import SOURCE_DIR

CONFIG_C = os.path.join(SOURCE_DIR, "src", "core", "config.c")
CONFIG_MD = os.path.join(SOURCE_DIR, "docs", "configuration.md")
EXAMPLE = os.path.join(SOURCE_DIR, "docs", "adcraft.conf.example")

# STR(name, ...), SECRET(name), INT(name, ...), MONEY(name, ...) or a plain
# { "name", KEY_..., ... } entry
MACRO_RE = re.compile(r"^\s*([A-Z]+)\(\s*([a-z][a-z0-9_]*)\s*[,)]", re.M)
PLAIN_RE = re.compile(r'^\s*\{\s*"([a-z][a-z0-9_]*)"\s*,\s*KEY_[A-Z]+', re.M)
MD_ROW_RE = re.compile(r"^\|\s*`([a-z][a-z0-9_]*)`\s*\|", re.M)
EXAMPLE_RE = re.compile(r"^#?([a-z][a-z0-9_]*)\s*=", re.M)


def read(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


def code_keys():
    src = read(CONFIG_C)
    start = src.index("static const struct key keys[] = {")
    table = src[start:src.index("};", start)]
    table = re.sub(r"/\*.*?\*/", "", table, flags=re.S)
    macros = set(re.findall(r"^#define\s+([A-Z]+)\(", src, re.M))
    keys = [name for macro, name in MACRO_RE.findall(table) if macro in macros]
    keys += PLAIN_RE.findall(table)
    return keys


def duplicates(names):
    return sorted(n for n, c in collections.Counter(names).items() if c > 1)


def compare(documented, where):
    keys = set(code_keys())
    missing = sorted(keys - set(documented))
    extra = sorted(set(documented) - keys)
    dup = duplicates(documented)
    msg = []
    if missing:
        msg.append(f"keys src/core/config.c reads that {where} does not document: {', '.join(missing)}")
    if extra:
        msg.append(f"keys {where} documents that src/core/config.c does not read: {', '.join(extra)}")
    if dup:
        msg.append(f"keys {where} documents more than once: {', '.join(dup)}")
    assert not msg, "\n".join(msg)


def test_key_table_parses():
    keys = code_keys()
    src = read(CONFIG_C)
    start = src.index("static const struct key keys[] = {")
    rows = [line for line in src[start:src.index("};", start)].splitlines()[1:]
            if line.strip() and not line.strip().startswith("/*")]
    # a format change in config.c must not make the comparison vacuous
    assert len(keys) >= 60 and len(keys) == len(rows), \
        f"{len(keys)} keys parsed from {len(rows)} rows of keys[] in {CONFIG_C}: has its format changed?"
    assert not duplicates(keys), duplicates(keys)
    assert {"database_url", "listen_mode", "jwt_secret_file", "daily_cost_limit"} <= set(keys)


def test_configuration_md_documents_exactly_the_keys():
    compare(MD_ROW_RE.findall(read(CONFIG_MD)), "docs/configuration.md")


def test_example_config_lists_exactly_the_keys():
    compare(EXAMPLE_RE.findall(read(EXAMPLE)), "docs/adcraft.conf.example")
