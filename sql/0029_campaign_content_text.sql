-- 0029_campaign_content_text: GET /api/campaigns/:id reads its document,
-- it does not render it (issue #14 §1: campaign get against the FastCGI
-- ceiling).
--
-- After 0027 a GET still did two things per call that only a write can
-- change:
--
-- 1. content::text: the content array rendered from jsonb (and, past
--    ~2 KB a row, decompressed first) on every read. It is now written
--    with the row: campaigns.content_text, a stored generated column.
-- 2. The abTests array: an aggregate over the campaign's ab_tests rows,
--    concatenated to the written entries and rendered, even when there
--    are no rows (most campaigns). campaign_ab_tests_text now probes
--    ab_tests_campaign_idx first and renders only when a row exists.
--
-- pgbench -M prepared, 4 clients, the GET statement alone, best of three
-- 3 s runs on the 2-CPU machine (a campaign with a 3.8 KB content array,
-- no A/B tests): 21,855 statements/s before, 46,447 with both changes,
-- 62,595 with content_text alone and no ab_tests probe; SELECT 1 113,920.
--
-- Costs: content rendered once on every insert and update of a campaign
-- (PostgreSQL 15 computes every stored generated column on each update),
-- and the rendered copy stored beside the jsonb (compressed with the row
-- past ~2 KB: 3.8 KB of content stored in 1.4 KB). Adding the column
-- rewrites campaigns under an ACCESS EXCLUSIVE lock, as 0027 did.

ALTER TABLE campaigns ADD COLUMN content_text text GENERATED ALWAYS AS (content::text) STORED;
COMMENT ON COLUMN campaigns.content_text IS 'Derived, written with the row: content rendered as JSON text, for campaign_text (GET /api/campaigns/:id reads it instead of rendering content). Query content, never this.';

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
    RETURN c.json_head || ',"content":' || c.content_text || ',"abTests":' || ab_tests || '}';
COMMENT ON FUNCTION campaign_document(campaigns, text) IS 'API representation of a campaign as JSON text given its abTests array as JSON text (campaign_ab_tests_text): the stored json_head and content_text. Inlined.';

CREATE OR REPLACE FUNCTION campaign_text(c campaigns, ab_tests jsonb) RETURNS text
    LANGUAGE sql STABLE PARALLEL SAFE
    RETURN campaign_document(c, ab_tests::text);
