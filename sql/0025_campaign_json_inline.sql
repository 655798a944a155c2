-- 0025_campaign_json_inline: GET /api/campaigns/:id without planning a
-- function body per request.
--
-- campaign_json(c) called campaign_ab_tests(c), a SQL function whose body
-- holds a subquery. PostgreSQL inlines a scalar SQL function only when its
-- body has no subquery, so campaign_ab_tests ran through the SQL-function
-- executor, which parses and plans its body once per statement execution:
-- every GET paid ~0.25 ms of planning for a campaign without A/B tests
-- (EXPLAIN ANALYZE of the prepared statement: 0.28 ms; after: 0.06 ms).
--
-- A set-returning SQL function that is one SELECT is inlined in FROM even
-- with a subquery, and a scalar one without a subquery is inlined anywhere:
--   campaign_ab_test_list(c.id, c.ab_tests)  the abTests array as a one-row table (inlined
--                             into the caller's plan with LATERAL)
--   campaign_json(c, abTests) the campaign's shape given that array (inlined)
-- campaign_json(c) and campaign_ab_tests(c) keep their meaning for the
-- statements that write (RETURNING campaign_json(c)): one shape, one source.

CREATE FUNCTION campaign_ab_test_list(campaign_id uuid, written jsonb) RETURNS TABLE (ab_tests jsonb)
    LANGUAGE sql STABLE PARALLEL SAFE
    BEGIN ATOMIC
        SELECT written || coalesce(jsonb_agg(ab_test_seed_json(t) ORDER BY t.created_at, t.id), '[]')
          FROM ab_tests t WHERE t.campaign_id = campaign_ab_test_list.campaign_id;
    END;
COMMENT ON FUNCTION campaign_ab_test_list(uuid, jsonb) IS 'A campaign''s abTests array as one row, given its id and campaigns.ab_tests (written): those entries, then its ab_tests rows in the seed''s shape. Use it in FROM (LATERAL): PostgreSQL inlines it there, where campaign_ab_tests(c) is planned on every call.';

CREATE OR REPLACE FUNCTION campaign_ab_tests(c campaigns) RETURNS jsonb
    LANGUAGE sql STABLE PARALLEL SAFE
    RETURN (SELECT l.ab_tests FROM campaign_ab_test_list(c.id, c.ab_tests) l);

CREATE FUNCTION campaign_json(c campaigns, ab_tests jsonb) RETURNS json
    LANGUAGE sql STABLE PARALLEL SAFE
    RETURN json_build_object(
        'id', c.id, 'userId', c.user_id, 'personaId', c.persona_id, 'brandProfileId', c.brand_profile_id,
        'name', c.name, 'product', c.product,
        'description', c.description, 'objective', c.objective, 'status', c.status,
        'budget', c.budget, 'currency', c.currency, 'startDate', c.start_date, 'endDate', c.end_date,
        'tone', c.tone, 'keywords', c.keywords, 'content', c.content, 'abTests', ab_tests,
        'generationSettings', c.generation_settings,
        'createdAt', rfc3339(c.created_at), 'updatedAt', rfc3339(c.updated_at));
COMMENT ON FUNCTION campaign_json(campaigns, jsonb) IS 'API representation of a campaign given its abTests array (campaign_ab_test_list): inlined into the caller''s plan.';

CREATE OR REPLACE FUNCTION campaign_json(c campaigns) RETURNS json
    LANGUAGE sql STABLE PARALLEL SAFE
    RETURN campaign_json(c, campaign_ab_tests(c));
