"""adcraft seed, the bulk loader of the benches and demos: every owner's summary equals a recount of
what it loaded, the derived columns of sql/0027 are filled, and it leaves its tables vacuumed."""

import os
import subprocess
import time

from campaign_helpers import q, q1
from helpers import BUILD_DIR


def seed(stack, *args):
    return subprocess.run([os.path.join(BUILD_DIR, "adcraft"), "--config", os.path.join(stack.dir, "adcraft.conf"),
                           "seed", *args], capture_output=True, text=True, timeout=300)


def test_seed_summaries_match_a_recount_and_tables_are_vacuumed(stack):
    p = seed(stack, "--users", "3", "--campaigns", "40", "--heavy-user-campaigns", "150")
    assert p.returncode == 0, p.stderr
    assert "vacuum" in p.stderr
    owners = q(stack, "SELECT id FROM users WHERE email LIKE 'seed-%@adcraft.test'")
    assert len(owners) == 3
    for (owner,) in owners:
        recount = q1(stack, "SELECT count(*) FROM campaigns WHERE user_id = %s", (owner,))
        summed = q1(stack, "SELECT sum(campaigns) FROM owner_summary WHERE user_id = %s", (owner,))
        assert recount in (40, 150) and summed == recount, (owner, recount, summed)
        items = q1(stack, "SELECT sum(jsonb_array_length(content)) FROM campaigns WHERE user_id = %s", (owner,))
        assert q1(stack, "SELECT sum(items) FROM owner_summary WHERE user_id = %s", (owner,)) == items
    # the stored heads, renderings and sort keys are those of the functions (sql/0027, 0029)
    assert q1(stack, """SELECT count(*) FROM campaigns c
                         WHERE c.json_head IS NULL
                            OR c.content_top_created IS DISTINCT FROM content_top_created(c.content)
                            OR '[' || array_to_string(c.content_items, ', ') || ']' <> c.content::text
                            OR campaign_summary_text(c, 0)::jsonb <> campaign_summary_json(c, 0)::jsonb""") == 0
    # VACUUM (ANALYZE) ran on the tables the triggers rewrote in every batch
    deadline = time.time() + 10
    while True:
        rows = q(stack, """SELECT relname, last_vacuum IS NOT NULL, last_analyze IS NOT NULL
                             FROM pg_stat_user_tables
                            WHERE relname IN ('campaigns', 'owner_summary', 'owner_budget') ORDER BY relname""")
        if all(v and a for _, v, a in rows) or time.time() > deadline:
            break
        time.sleep(0.2)
    assert rows == [("campaigns", True, True), ("owner_budget", True, True), ("owner_summary", True, True)], rows
