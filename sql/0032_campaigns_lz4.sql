-- 0032_campaigns_lz4: campaigns' large values compressed with lz4, not pglz
-- (issue #14: GET /api/campaigns/:id).
--
-- A campaign row over ~2 KB (one content item is enough: the item's JSON is
-- in content and again in content_items) has its largest values compressed
-- in place, with pglz by default. GET /api/campaigns/:id reads
-- content_items, so every GET decompressed it: pglz_decompress was 4% of
-- PostgreSQL's samples under wrk on that route (bench/api.sh's campaign, one
-- item, 1.1 KB compressed). lz4 decompresses several times faster and
-- compresses faster when content is written (every content add, edit and
-- generation rewrites both columns); the values are ~6% larger (1,141 bytes
-- against 1,078 for that campaign).
--
-- A SELECT reading content_items from one row 200,000 times, the same
-- campaign written before and after this change, same minute: 6.0-6.6 us a
-- row with pglz, 4.2-5.2 us with lz4.
--
-- Only values written from now on are lz4: existing rows keep pglz until
-- their content (or the other column) is written again; both read the same.
-- No rewrite, no lock beyond the ALTER's brief ACCESS EXCLUSIVE.

ALTER TABLE campaigns
    ALTER COLUMN content SET COMPRESSION lz4,
    ALTER COLUMN content_items SET COMPRESSION lz4,
    ALTER COLUMN json_head SET COMPRESSION lz4;
