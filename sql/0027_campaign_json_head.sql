-- 0027_campaign_summary_stored: a page of GET /api/campaigns costs little
-- more than one row (issue #14 §2), and a campaign's JSON is not built
-- twice per write.
--
-- A page of 20 (21 rows read) spent ~14 us a row in campaign_summary_json:
-- json_build_object over twenty columns and two to_char() calls, 0.33 ms
-- of a 0.35 ms page where the index scan and the ab_tests counts took
-- 0.04 ms (a loop of 2,000 pages in one session, loaded machine: 658 ms,
-- of which 24 ms the bare index scan). The scalar part of the summary
-- changes only when the row is written, so it is now written with the
-- row: campaigns.json_head, a stored generated column holding the
-- JSON object of the campaign's scalar columns without its closing brace.
-- The list representation appends the two counts that are not the row's
-- own (contentCount from the stored content_tally, abTestCount with the
-- caller's count of ab_tests rows); the full representation appends
-- content and abTests. The same loop: 96 ms (11x less). A create's
-- RETURNING and GET /api/campaigns/:id read the head too (campaign_text):
-- the insert computes it anyway, and json_build_object ran a second time.
--
-- Costs: one more json_build_object (~15 us) on each insert and on each
-- update of a campaign, and ~0.6 KB more per row (content_top_created was
-- computed on writes already, for the index). Adding the column
-- rewrites campaigns under an ACCESS EXCLUSIVE lock (every index rebuilt:
-- ~6 s for 20k rows on a loaded 2-CPU machine; plan a window for millions).
--
-- The dashboard's top content read the owner's five best campaigns off
-- campaigns_user_top_idx, whose third key was the expression
-- content_top_created(content): the index gave the order, but the executor
-- still computed the sort key for each row it returned (a plpgsql call that
-- detoasts and walks the content array twice, ~26 us a row: 130 us of a
-- 140 us lookup). The key is now the stored column content_top_created,
-- written with the row like content_top_score (same function, same values),
-- and the index is rebuilt on it.
--
-- IMMUTABLE holds: json_build_object writes uuid, text, numeric, date
-- (always ISO 8601 in JSON, whatever DateStyle) and jsonb the same in every
-- session, and both timestamps are formatted in UTC with an explicit
-- pattern (no TM fields: lc_time plays no part). plpgsql, not SQL: an
-- IMMUTABLE SQL function whose body calls STABLE functions is not inlined,
-- and the SQL-function executor would plan it on every write (0026).

CREATE FUNCTION campaign_json_head(
        id uuid, user_id uuid, persona_id uuid, brand_profile_id uuid, name text, product text,
        description text, objective text, status text, budget numeric, currency text, start_date date,
        end_date date, tone text, keywords text, generation_settings jsonb, created_at timestamptz,
        updated_at timestamptz) RETURNS text
    LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
AS $$
BEGIN
    RETURN left(json_build_object(
        'id', id, 'userId', user_id, 'personaId', persona_id, 'brandProfileId', brand_profile_id,
        'name', name, 'product', product, 'description', description, 'objective', objective,
        'status', status, 'budget', budget, 'currency', currency, 'startDate', start_date,
        'endDate', end_date, 'tone', tone, 'keywords', keywords, 'generationSettings', generation_settings,
        'createdAt', to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
        'updatedAt', to_char(updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'))::text, -1);
END
$$;
COMMENT ON FUNCTION campaign_json_head(uuid, uuid, uuid, uuid, text, text, text, text, text, numeric, text, date, date, text, text, jsonb, timestamptz, timestamptz) IS 'The expression of campaigns.json_head: the API representation''s fields that are the campaign''s scalar columns, as a JSON object without its closing brace.';

ALTER TABLE campaigns
    ADD COLUMN json_head text GENERATED ALWAYS AS (campaign_json_head(
        id, user_id, persona_id, brand_profile_id, name, product, description, objective, status, budget,
        currency, start_date, end_date, tone, keywords, generation_settings, created_at, updated_at)) STORED,
    ADD COLUMN content_top_created text GENERATED ALWAYS AS (content_top_created(content)) STORED;
COMMENT ON COLUMN campaigns.json_head IS 'Derived, written with the row: the API representation''s scalar fields as a JSON object without its closing brace (campaign_summary_text appends contentCount and abTestCount, campaign_text content and abTests). Not for reading by hand: read campaign_json(c) or campaign_summary_json(c).';

COMMENT ON COLUMN campaigns.content_top_created IS 'Generated from content: createdAt (text, as stored) of the newest of the best-scored items (content_top_created(content)); with content_top_score, the order of campaigns_user_top_idx.';

DROP INDEX campaigns_user_top_idx;
CREATE INDEX campaigns_user_top_idx ON campaigns (user_id, content_top_score DESC NULLS LAST, content_top_created DESC);

CREATE FUNCTION campaign_summary_text(c campaigns, ab_test_rows bigint) RETURNS text
    LANGUAGE sql STABLE PARALLEL SAFE
    RETURN c.json_head || ',"contentCount":' || (c.content_tally->>'total')
        || ',"abTestCount":' || (jsonb_array_length(c.ab_tests) + ab_test_rows) || '}';
COMMENT ON FUNCTION campaign_summary_text(campaigns, bigint) IS 'API list representation of a campaign as JSON text, given the number of its ab_tests rows (the caller counts them in its own plan). Inlined: keep it one expression without subqueries.';

CREATE OR REPLACE FUNCTION campaign_summary_json(c campaigns, ab_test_rows bigint) RETURNS json
    LANGUAGE sql STABLE PARALLEL SAFE
    RETURN campaign_summary_text(c, ab_test_rows)::json;

CREATE FUNCTION campaign_text(c campaigns, ab_tests jsonb) RETURNS text
    LANGUAGE sql STABLE PARALLEL SAFE
    RETURN c.json_head || ',"content":' || c.content::text || ',"abTests":' || ab_tests::text || '}';
COMMENT ON FUNCTION campaign_text(campaigns, jsonb) IS 'API representation of a campaign as JSON text given its abTests array (campaign_ab_test_list): the same document as campaign_json(c, ab_tests), from the stored json_head. Inlined.';

-- One field list for the whole document: campaign_json (an update's
-- RETURNING, through campaign_json(c)) is campaign_text as json, so GET and
-- PATCH cannot drift apart when a column is added to campaign_json_head.
CREATE OR REPLACE FUNCTION campaign_json(c campaigns, ab_tests jsonb) RETURNS json
    LANGUAGE sql STABLE PARALLEL SAFE
    RETURN campaign_text(c, ab_tests)::json;

-- A created campaign has no content yet, but the three generated columns
-- over content each ran their query (jsonb_array_elements under an
-- aggregate, through SPI) on every insert: 12% of a create's PostgreSQL
-- time (perf, POST /api/campaigns under wrk). An empty array now returns
-- what that query returns for it, without running it; any other content
-- takes the query as before, so every stored value stays what it was.
CREATE OR REPLACE FUNCTION content_tally(content jsonb) RETURNS jsonb
    LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
AS $$
BEGIN
    IF content = '[]'::jsonb THEN
        RETURN '{"total": 0, "email": 0, "social_post": 0, "ad_copy": 0, "p_email": 0, "linkedin": 0,
                 "twitter": 0, "facebook": 0, "instagram": 0, "google_ads": 0, "scored": 0, "score_sum": 0}'::jsonb;
    END IF;
    RETURN (SELECT jsonb_build_object('total', count(*),
                                      'email', count(*) FILTER (WHERE e.value->>'contentType' = 'email'),
                                      'social_post', count(*) FILTER (WHERE e.value->>'contentType' = 'social_post'),
                                      'ad_copy', count(*) FILTER (WHERE e.value->>'contentType' = 'ad_copy'),
                                      'p_email', count(*) FILTER (WHERE e.value->>'platform' = 'email'),
                                      'linkedin', count(*) FILTER (WHERE e.value->>'platform' = 'linkedin'),
                                      'twitter', count(*) FILTER (WHERE e.value->>'platform' = 'twitter'),
                                      'facebook', count(*) FILTER (WHERE e.value->>'platform' = 'facebook'),
                                      'instagram', count(*) FILTER (WHERE e.value->>'platform' = 'instagram'),
                                      'google_ads', count(*) FILTER (WHERE e.value->>'platform' = 'google_ads'),
                                      'scored', count(e.value->'qualityScore'),
                                      'score_sum', coalesce(sum((e.value->>'qualityScore')::numeric), 0))
              FROM jsonb_array_elements(content_tally.content) AS e (value));
END
$$;

CREATE OR REPLACE FUNCTION content_top_score(content jsonb) RETURNS integer
    LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
AS $$
BEGIN
    IF content = '[]'::jsonb THEN
        RETURN NULL;
    END IF;
    RETURN (SELECT max((e.value->>'qualityScore')::integer) FROM jsonb_array_elements(content_top_score.content) AS e (value));
END
$$;

CREATE OR REPLACE FUNCTION content_top_created(content jsonb) RETURNS text
    LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
AS $$
BEGIN
    IF content = '[]'::jsonb THEN
        RETURN NULL;
    END IF;
    RETURN (SELECT max(e.value->>'createdAt') FROM jsonb_array_elements(content_top_created.content) AS e (value)
             WHERE (e.value->>'qualityScore')::integer
                   = (SELECT max((x.value->>'qualityScore')::integer)
                        FROM jsonb_array_elements(content_top_created.content) AS x (value)));
END
$$;
