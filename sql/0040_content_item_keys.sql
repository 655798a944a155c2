-- 0040_content_item_keys: each content item's top-content sort key, stored
-- with the row, so the dashboard ranks items without reading content
-- (issue #14 §2, dashboard).
--
-- The dashboard's top content takes the five campaigns whose best item is
-- best (campaigns_user_top_idx) and ranks all their items by score, then
-- createdAt. It read both of each campaign's arrays: content (jsonb, ~2 KB
-- compressed and stored out of line: a TOAST index probe, two chunks, lz4)
-- only for two fields per item, and content_items for the text it prints.
-- callgrind, an owner of 10,000 campaigns of 100,000, the dashboard statement:
-- 1,838,000 instructions per execution reading content, 1,601,000 reading this
-- column instead (-13%); fetching content and expanding it into a tuplestore
-- of items was the difference. A create pays one more generated expression:
-- 1,325,200 -> 1,347,000 instructions (+1.6%).
--
-- A key is text that sorts like (score, createdAt): the score as ten digits
-- after adding 2^31 (any integer, in order), then createdAt as stored. Items
-- that are not objects or have no qualityScore have none (NULL): they are no
-- top content. Compare keys with COLLATE "C".
--
-- Adding a stored generated column rewrites campaigns once, under an ACCESS
-- EXCLUSIVE lock: 18.0 s for 100,000 campaigns (700 MB with their TOAST) on
-- the 2-CPU machine of docs/performance.md, about three minutes per million.

CREATE FUNCTION content_item_keys(content jsonb) RETURNS text[]
    LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
AS $$
BEGIN
    IF content = '[]'::jsonb THEN
        RETURN '{}'::text[];
    END IF;
    RETURN ARRAY(SELECT CASE WHEN jsonb_typeof(x.e) = 'object' AND x.e->>'qualityScore' IS NOT NULL
                             THEN lpad(((x.e->>'qualityScore')::integer::bigint + 2147483648)::text, 10, '0')
                                  || coalesce(x.e->>'createdAt', '') END
                   FROM jsonb_array_elements(content) WITH ORDINALITY AS x (e, n) ORDER BY x.n);
END
$$;
COMMENT ON FUNCTION content_item_keys(jsonb) IS 'The expression of campaigns.content_item_keys: for each element of a content array, in order, text that sorts (COLLATE "C") like its (qualityScore, createdAt): the score plus 2^31 as ten digits, then createdAt; NULL for an element that is not an object or has no qualityScore.';

ALTER TABLE campaigns ADD COLUMN content_item_keys text[] GENERATED ALWAYS AS (content_item_keys(content)) STORED;
COMMENT ON COLUMN campaigns.content_item_keys IS 'Derived, written with the row: each content item''s top-content sort key (content_item_keys), in the order of content and content_items. The dashboard''s top content ranks the items of the owner''s five best campaigns by it. Query content, never this.';

ANALYZE campaigns;
