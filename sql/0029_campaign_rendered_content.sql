-- 0029_campaign_rendered_content: GET /api/campaigns/:id reads its
-- document, it does not render it (issue #14 §1: campaign get against the
-- FastCGI ceiling), and the dashboard's top content reads its items
-- rendered (§2: dashboard under wrk).
--
-- After 0027 a GET still did two things per call that only a write can
-- change:
--
-- 1. content::text: the content array rendered from jsonb (and, past
--    ~2 KB a row, decompressed first) on every read. It is now written
--    with the row: campaigns.content_items, a stored generated column
--    holding each item's JSON text, in order; the array's text is them
--    joined (jsonb writes an array as '[' || items joined by ', ' || ']',
--    so the bytes are the same). Kept per item so that the dashboard's
--    top content, which picks five items out of the owner's five best
--    campaigns, splices their text too: rendering ~10 KB of items from
--    jsonb was most of that part (195 us of a 546 us dashboard for an
--    owner of 10k seeded campaigns; jsonb_out runs at ~7 us a KB here).
-- 2. The abTests array: an aggregate over the campaign's ab_tests rows,
--    concatenated to the written entries and rendered, even when there
--    are no rows (most campaigns). campaign_ab_tests_text now probes
--    ab_tests_campaign_idx first and renders only when a row exists.
--
-- pgbench -M prepared, 4 clients, the GET statement alone, best of three
-- 3 s runs on the 2-CPU machine (a campaign with a 3.8 KB content array,
-- no A/B tests): 21,855 statements/s before, 46,447 with both changes
-- (the content stored as one text then); SELECT 1 113,920.
--
-- Costs: content rendered once on every insert and update of a campaign
-- (PostgreSQL 15 computes every stored generated column on each update),
-- and the rendered copy stored beside the jsonb (compressed with the row
-- past ~2 KB: 3.8 KB of content stored in 1.4 KB). Adding the column
-- rewrites campaigns under an ACCESS EXCLUSIVE lock, as 0027 did.

-- IMMUTABLE holds: jsonb's text output depends on nothing but the value.
-- plpgsql, so that the query's plan is kept for the session (0026).
CREATE FUNCTION content_item_texts(content jsonb) RETURNS text[]
    LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
AS $$
BEGIN
    IF content = '[]'::jsonb THEN
        RETURN '{}'::text[];
    END IF;
    RETURN ARRAY(SELECT x.e::text FROM jsonb_array_elements(content) WITH ORDINALITY AS x (e, n) ORDER BY x.n);
END
$$;
COMMENT ON FUNCTION content_item_texts(jsonb) IS 'The expression of campaigns.content_items: each element of a content array as JSON text, in order.';

ALTER TABLE campaigns ADD COLUMN content_items text[] GENERATED ALWAYS AS (content_item_texts(content)) STORED;
COMMENT ON COLUMN campaigns.content_items IS 'Derived, written with the row: each content item rendered as JSON text, in order (content_item_texts). GET /api/campaigns/:id joins them (campaign_document), the dashboard''s top content splices the ones it picks. Query content, never this.';

-- The aggregate for a campaign that has ab_tests rows, in plpgsql: its
-- plan is kept for the session and its executor is started only when it
-- is called. As a subquery of the GET statement the executor initialised
-- its Agg node at every GET, rows or none (perf under wrk: 4.5% of the
-- machine's CPU, ~7 us a request).
CREATE FUNCTION campaign_ab_tests_rendered(campaign_id uuid, written jsonb) RETURNS text
    LANGUAGE plpgsql STABLE PARALLEL SAFE
AS $$
BEGIN
    RETURN (SELECT l.ab_tests::text FROM campaign_ab_test_list(campaign_id, written) l);
END
$$;
COMMENT ON FUNCTION campaign_ab_tests_rendered(uuid, jsonb) IS 'campaign_ab_test_list as JSON text (campaign_ab_tests_text calls it for a campaign that has ab_tests rows).';

-- A set-returning SQL function that is one SELECT is inlined in FROM (0025),
-- sublinks and all: the EXISTS probe is planned once, in the caller's
-- generic plan.
CREATE FUNCTION campaign_ab_tests_text(campaign_id uuid, written jsonb) RETURNS TABLE (ab_tests text)
    LANGUAGE sql STABLE PARALLEL SAFE
    BEGIN ATOMIC
        SELECT CASE WHEN EXISTS (SELECT FROM ab_tests t WHERE t.campaign_id = campaign_ab_tests_text.campaign_id)
                    THEN campaign_ab_tests_rendered(campaign_ab_tests_text.campaign_id, written)
                    ELSE written::text
               END;
    END;
COMMENT ON FUNCTION campaign_ab_tests_text(uuid, jsonb) IS 'A campaign''s abTests array as JSON text, one row: campaign_ab_test_list rendered (campaign_ab_tests_rendered), or the written entries alone when the campaign has no ab_tests rows. Use it in FROM, where it is inlined.';

-- The document given its abTests as text; campaign_text (a create's
-- RETURNING) and campaign_json (an update's) are it, so every path keeps
-- one field list.
CREATE FUNCTION campaign_document(c campaigns, ab_tests text) RETURNS text
    LANGUAGE sql STABLE PARALLEL SAFE
    RETURN c.json_head || ',"content":[' || array_to_string(c.content_items, ', ') || '],"abTests":' || ab_tests || '}';
COMMENT ON FUNCTION campaign_document(campaigns, text) IS 'API representation of a campaign as JSON text given its abTests array as JSON text (campaign_ab_tests_text): the stored json_head and content_items. Inlined.';

CREATE OR REPLACE FUNCTION campaign_text(c campaigns, ab_tests jsonb) RETURNS text
    LANGUAGE sql STABLE PARALLEL SAFE
    RETURN campaign_document(c, ab_tests::text);
