-- 0021_owner_summary: per-owner campaign tallies kept by triggers.
--
-- GET /api/campaigns/stats and the tallies of /dashboard summed a few
-- integers per campaign (0006): fine for 100 campaigns, 77 ms for 10k, and
-- under a generic plan their cost followed the whole table, not the owner's
-- rows. Here one row per owner (owner_summary) and one per (owner, currency)
-- (owner_budget) hold those totals, so both read a handful of rows.
--
-- Consistency: row triggers on campaigns add what each write changed (the
-- new row, less the old one) to the owner's rows, in the writer's
-- transaction, with row-level increments (x = x + delta) under
-- the row's lock: the totals are sums, so the order in which concurrent
-- transactions add to them does not matter, and each commit makes its
-- campaigns and its increments visible together. Every write to campaigns
-- goes through the triggers whoever runs it (API, worker, seed's COPY, a
-- DBA), so the tallies equal the recount at every commit. An update that
-- changes nothing tallied (a name edit, updated_at) does not fire them.
--
-- Contention: one row per owner made every writer of that owner wait for
-- the previous one's commit (its WAL flush) while holding the row: 4
-- connections creating one owner's campaigns fell from 520 to 174 inserts/s
-- (pgbench, fsync on). So an owner's tallies are striped over up to 8 rows,
-- slot = the writing backend's pid mod 8: each API or worker connection adds
-- to its own slot, and readers sum the owner's slots (an index range of at
-- most 8 rows, plus 8 per currency).

CREATE TABLE owner_summary (
    user_id       uuid    NOT NULL REFERENCES users ON DELETE CASCADE,
    slot          smallint NOT NULL CHECK (slot BETWEEN 0 AND 7),
    campaigns     bigint  NOT NULL DEFAULT 0,
    draft         bigint  NOT NULL DEFAULT 0,
    active        bigint  NOT NULL DEFAULT 0,
    generating    bigint  NOT NULL DEFAULT 0,
    completed     bigint  NOT NULL DEFAULT 0,
    awareness     bigint  NOT NULL DEFAULT 0,
    consideration bigint  NOT NULL DEFAULT 0,
    conversion    bigint  NOT NULL DEFAULT 0,
    items         bigint  NOT NULL DEFAULT 0,
    email         bigint  NOT NULL DEFAULT 0,
    social_post   bigint  NOT NULL DEFAULT 0,
    ad_copy       bigint  NOT NULL DEFAULT 0,
    p_email       bigint  NOT NULL DEFAULT 0,
    linkedin      bigint  NOT NULL DEFAULT 0,
    twitter       bigint  NOT NULL DEFAULT 0,
    facebook      bigint  NOT NULL DEFAULT 0,
    instagram     bigint  NOT NULL DEFAULT 0,
    google_ads    bigint  NOT NULL DEFAULT 0,
    scored        bigint  NOT NULL DEFAULT 0,
    score_sum     numeric NOT NULL DEFAULT 0,
    PRIMARY KEY (user_id, slot)
) WITH (fillfactor = 50);  -- updated in place by every tallied write (HOT)
COMMENT ON TABLE owner_summary IS 'Campaign and content totals of one owner, striped over up to 8 slots; the sum of an owner''s rows is kept equal to a recount of the owner''s campaigns by the row triggers campaigns_owner_summary_*. GET /api/campaigns/stats and /dashboard read it.';
COMMENT ON COLUMN owner_summary.user_id IS 'The owner.';
COMMENT ON COLUMN owner_summary.slot IS 'Stripe 0..7: the writing backend''s pid mod 8, so that concurrent writers of one owner do not wait for each other. Only the sum over an owner''s slots means anything.';
COMMENT ON COLUMN owner_summary.campaigns IS 'Number of the owner''s campaigns.';
COMMENT ON COLUMN owner_summary.draft IS 'Campaigns with status draft.';
COMMENT ON COLUMN owner_summary.active IS 'Campaigns with status active.';
COMMENT ON COLUMN owner_summary.generating IS 'Campaigns with status generating.';
COMMENT ON COLUMN owner_summary.completed IS 'Campaigns with status completed.';
COMMENT ON COLUMN owner_summary.awareness IS 'Campaigns with objective awareness.';
COMMENT ON COLUMN owner_summary.consideration IS 'Campaigns with objective consideration.';
COMMENT ON COLUMN owner_summary.conversion IS 'Campaigns with objective conversion.';
COMMENT ON COLUMN owner_summary.items IS 'Content items over all the owner''s campaigns.';
COMMENT ON COLUMN owner_summary.email IS 'Content items of type email.';
COMMENT ON COLUMN owner_summary.social_post IS 'Content items of type social_post.';
COMMENT ON COLUMN owner_summary.ad_copy IS 'Content items of type ad_copy.';
COMMENT ON COLUMN owner_summary.p_email IS 'Content items for platform email.';
COMMENT ON COLUMN owner_summary.linkedin IS 'Content items for platform linkedin.';
COMMENT ON COLUMN owner_summary.twitter IS 'Content items for platform twitter.';
COMMENT ON COLUMN owner_summary.facebook IS 'Content items for platform facebook.';
COMMENT ON COLUMN owner_summary.instagram IS 'Content items for platform instagram.';
COMMENT ON COLUMN owner_summary.google_ads IS 'Content items for platform google_ads.';
COMMENT ON COLUMN owner_summary.scored IS 'Content items that have a qualityScore.';
COMMENT ON COLUMN owner_summary.score_sum IS 'Sum of those items'' quality scores (averageQualityScore = score_sum / scored).';

CREATE TABLE owner_budget (
    user_id  uuid     NOT NULL REFERENCES users ON DELETE CASCADE,
    currency text     NOT NULL,
    slot     smallint NOT NULL CHECK (slot BETWEEN 0 AND 7),
    budgets  bigint   NOT NULL DEFAULT 0,
    total    numeric  NOT NULL DEFAULT 0,
    PRIMARY KEY (user_id, currency, slot)
) WITH (fillfactor = 50);
COMMENT ON TABLE owner_budget IS 'Budget totals of one owner per currency, striped like owner_summary and kept by the same triggers; a currency whose budgets sum to 0 is no longer budgeted and is not shown.';
COMMENT ON COLUMN owner_budget.user_id IS 'The owner.';
COMMENT ON COLUMN owner_budget.slot IS 'Stripe 0..7, as owner_summary.slot.';
COMMENT ON COLUMN owner_budget.currency IS 'ISO 4217 code of the campaigns counted.';
COMMENT ON COLUMN owner_budget.budgets IS 'Number of the owner''s campaigns in this currency with a budget (NOT NULL).';
COMMENT ON COLUMN owner_budget.total IS 'Sum of those budgets.';

-- What one campaign row adds to its owner's tallies (sign -1: what it takes away).
CREATE TYPE owner_tally AS (
    user_id   uuid,
    sign      int,
    status    text,
    objective text,
    budget    numeric,
    currency  text,
    t         jsonb
);
ALTER TYPE owner_tally OWNER TO adcraft_owner;  -- adcraft_claim_ownership() takes tables and functions, not types
COMMENT ON TYPE owner_tally IS 'One campaign row''s contribution to owner_summary/owner_budget: sign +1 for a new row, -1 for an old one; t is its content_tally.';

-- Adds contributions to the owners' rows in this backend's slot, owners in
-- user_id order. Owners whose totals do not change are skipped; an owner
-- being deleted (the users row is gone: ON DELETE CASCADE is removing their
-- campaigns) is skipped, its summary goes with it. plpgsql, not SQL: a SQL
-- function's statements are planned at every call (1 ms a campaign insert),
-- plpgsql keeps their plans for the session.
CREATE FUNCTION owner_summary_add(d owner_tally[]) RETURNS void
    LANGUAGE plpgsql VOLATILE
AS $$
BEGIN
    INSERT INTO owner_summary AS s (user_id, slot, campaigns, draft, active, generating, completed, awareness,
                                    consideration, conversion, items, email, social_post, ad_copy, p_email,
                                    linkedin, twitter, facebook, instagram, google_ads, scored, score_sum)
    SELECT x.user_id, pg_backend_pid() % 8, x.campaigns, x.draft, x.active, x.generating, x.completed, x.awareness, x.consideration,
           x.conversion, x.items, x.email, x.social_post, x.ad_copy, x.p_email, x.linkedin, x.twitter,
           x.facebook, x.instagram, x.google_ads, x.scored, x.score_sum
      FROM (SELECT c.user_id,
                   sum(c.sign) AS campaigns,
                   sum(c.sign * (c.status = 'draft')::int) AS draft,
                   sum(c.sign * (c.status = 'active')::int) AS active,
                   sum(c.sign * (c.status = 'generating')::int) AS generating,
                   sum(c.sign * (c.status = 'completed')::int) AS completed,
                   sum(c.sign * (c.objective = 'awareness')::int) AS awareness,
                   sum(c.sign * (c.objective = 'consideration')::int) AS consideration,
                   sum(c.sign * (c.objective = 'conversion')::int) AS conversion,
                   sum(c.sign * (c.t->>'total')::int) AS items,
                   sum(c.sign * (c.t->>'email')::int) AS email,
                   sum(c.sign * (c.t->>'social_post')::int) AS social_post,
                   sum(c.sign * (c.t->>'ad_copy')::int) AS ad_copy,
                   sum(c.sign * (c.t->>'p_email')::int) AS p_email,
                   sum(c.sign * (c.t->>'linkedin')::int) AS linkedin,
                   sum(c.sign * (c.t->>'twitter')::int) AS twitter,
                   sum(c.sign * (c.t->>'facebook')::int) AS facebook,
                   sum(c.sign * (c.t->>'instagram')::int) AS instagram,
                   sum(c.sign * (c.t->>'google_ads')::int) AS google_ads,
                   sum(c.sign * (c.t->>'scored')::int) AS scored,
                   sum(c.sign * (c.t->>'score_sum')::numeric) AS score_sum
              FROM unnest(d) AS c
             GROUP BY c.user_id) AS x
     WHERE (x.campaigns, x.draft, x.active, x.generating, x.completed, x.awareness, x.consideration,
            x.conversion, x.items, x.email, x.social_post, x.ad_copy, x.p_email, x.linkedin, x.twitter,
            x.facebook, x.instagram, x.google_ads, x.scored, x.score_sum)
           IS DISTINCT FROM (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0::numeric)
       AND EXISTS (SELECT FROM users u WHERE u.id = x.user_id)
     ORDER BY x.user_id
    ON CONFLICT (user_id, slot) DO UPDATE SET
           campaigns = s.campaigns + excluded.campaigns, draft = s.draft + excluded.draft,
           active = s.active + excluded.active, generating = s.generating + excluded.generating,
           completed = s.completed + excluded.completed, awareness = s.awareness + excluded.awareness,
           consideration = s.consideration + excluded.consideration,
           conversion = s.conversion + excluded.conversion, items = s.items + excluded.items,
           email = s.email + excluded.email, social_post = s.social_post + excluded.social_post,
           ad_copy = s.ad_copy + excluded.ad_copy, p_email = s.p_email + excluded.p_email,
           linkedin = s.linkedin + excluded.linkedin, twitter = s.twitter + excluded.twitter,
           facebook = s.facebook + excluded.facebook, instagram = s.instagram + excluded.instagram,
           google_ads = s.google_ads + excluded.google_ads, scored = s.scored + excluded.scored,
           score_sum = s.score_sum + excluded.score_sum;

    IF NOT EXISTS (SELECT FROM unnest(d) AS c WHERE c.budget IS NOT NULL) THEN
        RETURN;
    END IF;
    INSERT INTO owner_budget AS b (user_id, currency, slot, budgets, total)
    SELECT x.user_id, x.currency, pg_backend_pid() % 8, x.budgets, x.total
      FROM (SELECT c.user_id, c.currency, sum(c.sign) AS budgets, sum(c.sign * c.budget) AS total
              FROM unnest(d) AS c
             WHERE c.budget IS NOT NULL
             GROUP BY c.user_id, c.currency) AS x
     WHERE (x.budgets <> 0 OR x.total <> 0)
       AND EXISTS (SELECT FROM users u WHERE u.id = x.user_id)
     ORDER BY x.user_id, x.currency
    ON CONFLICT (user_id, currency, slot) DO UPDATE SET
           budgets = b.budgets + excluded.budgets, total = b.total + excluded.total;
END
$$;
COMMENT ON FUNCTION owner_summary_add(owner_tally[]) IS 'Adds campaign rows'' contributions (owner_tally, signed) to owner_summary and owner_budget with row-level increments. Only the campaigns_owner_summary() trigger (SECURITY DEFINER) calls it: the API and worker cannot write the summary themselves.';
REVOKE EXECUTE ON FUNCTION owner_summary_add(owner_tally[]) FROM PUBLIC;

-- The trigger: a row trigger, so a one-row write (what the API and worker
-- do) pays for one call with OLD and NEW, not for transition tables; the
-- UPDATE trigger fires only when a tallied column changed (its WHEN is
-- checked without calling any function), so name edits, updated_at and
-- generation bookkeeping cost nothing here. Bulk writes (seed's COPY) pay one
-- call per row.
CREATE FUNCTION campaigns_owner_summary() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, public
AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM owner_summary_add(ARRAY[ROW(NEW.user_id, 1, NEW.status, NEW.objective, NEW.budget, NEW.currency,
                                            NEW.content_tally)::owner_tally]);
    ELSIF TG_OP = 'DELETE' THEN
        PERFORM owner_summary_add(ARRAY[ROW(OLD.user_id, -1, OLD.status, OLD.objective, OLD.budget, OLD.currency,
                                            OLD.content_tally)::owner_tally]);
    ELSE
        PERFORM owner_summary_add(ARRAY[ROW(OLD.user_id, -1, OLD.status, OLD.objective, OLD.budget, OLD.currency,
                                            OLD.content_tally)::owner_tally,
                                        ROW(NEW.user_id, 1, NEW.status, NEW.objective, NEW.budget, NEW.currency,
                                            NEW.content_tally)::owner_tally]);
    END IF;
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION campaigns_owner_summary() IS 'Row trigger function of campaigns: adds an inserted campaign to its owner''s summary, takes a deleted one out, and for an update takes the old values out and adds the new ones.';

CREATE TRIGGER campaigns_owner_summary_insert AFTER INSERT ON campaigns
    FOR EACH ROW EXECUTE FUNCTION campaigns_owner_summary();
CREATE TRIGGER campaigns_owner_summary_update AFTER UPDATE ON campaigns
    FOR EACH ROW
    WHEN (OLD.status IS DISTINCT FROM NEW.status OR OLD.objective IS DISTINCT FROM NEW.objective
          OR OLD.budget IS DISTINCT FROM NEW.budget OR OLD.currency IS DISTINCT FROM NEW.currency
          OR OLD.content_tally IS DISTINCT FROM NEW.content_tally OR OLD.user_id IS DISTINCT FROM NEW.user_id)
    EXECUTE FUNCTION campaigns_owner_summary();
CREATE TRIGGER campaigns_owner_summary_delete AFTER DELETE ON campaigns
    FOR EACH ROW EXECUTE FUNCTION campaigns_owner_summary();

-- TRUNCATE fires no row trigger: the summary goes with the campaigns.
CREATE FUNCTION campaigns_owner_summary_truncate() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, public
AS $$
BEGIN
    TRUNCATE owner_summary, owner_budget;
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION campaigns_owner_summary_truncate() IS 'Statement trigger function of campaigns: TRUNCATE campaigns empties owner_summary and owner_budget too.';
CREATE TRIGGER campaigns_owner_summary_truncate AFTER TRUNCATE ON campaigns
    FOR EACH STATEMENT EXECUTE FUNCTION campaigns_owner_summary_truncate();

-- Backfill, in the migration's transaction: writers of campaigns wait for
-- the lock below, so no change falls between the recount and the triggers.
LOCK TABLE campaigns IN SHARE ROW EXCLUSIVE MODE;
SELECT owner_summary_add(array_agg(ROW(c.user_id, 1, c.status, c.objective, c.budget, c.currency,
                                       c.content_tally)::owner_tally))
  FROM campaigns c;

-- The stats, from the summary: the owner's slots, an index range of at
-- most 8 rows (and 8 per currency), whatever the owner's size. plpgsql so
-- that the plan is kept for the session (a SQL function is planned at every
-- call: 2.9 ms a call against 1.1 ms, psql round trip included).
CREATE OR REPLACE FUNCTION campaign_stats(owner uuid) RETURNS json
    LANGUAGE plpgsql STABLE PARALLEL SAFE
AS $$
BEGIN
RETURN (SELECT json_build_object(
    'total', s.campaigns,
    'byStatus', json_build_object('draft', s.draft, 'active', s.active, 'generating', s.generating,
                                  'completed', s.completed),
    'byObjective', json_build_object('awareness', s.awareness, 'consideration', s.consideration,
                                     'conversion', s.conversion),
    'budget', (SELECT coalesce(json_agg(json_build_object('currency', b.currency, 'total', b.total)
                                        ORDER BY b.currency), '[]')
                 FROM (SELECT currency, sum(total) AS total FROM owner_budget WHERE user_id = owner
                        GROUP BY currency HAVING sum(budgets) > 0) b),
    'content', json_build_object(
        'total', s.items,
        'byType', json_build_object('email', s.email, 'social_post', s.social_post, 'ad_copy', s.ad_copy),
        'byPlatform', json_build_object('email', s.p_email, 'linkedin', s.linkedin, 'twitter', s.twitter,
                                        'facebook', s.facebook, 'instagram', s.instagram,
                                        'google_ads', s.google_ads),
        'averageQualityScore', CASE WHEN s.scored > 0 THEN round(s.score_sum / s.scored, 1) END))
  FROM (SELECT coalesce(sum(campaigns), 0) AS campaigns, coalesce(sum(draft), 0) AS draft,
               coalesce(sum(active), 0) AS active, coalesce(sum(generating), 0) AS generating,
               coalesce(sum(completed), 0) AS completed, coalesce(sum(awareness), 0) AS awareness,
               coalesce(sum(consideration), 0) AS consideration, coalesce(sum(conversion), 0) AS conversion,
               coalesce(sum(items), 0) AS items, coalesce(sum(email), 0) AS email,
               coalesce(sum(social_post), 0) AS social_post, coalesce(sum(ad_copy), 0) AS ad_copy,
               coalesce(sum(p_email), 0) AS p_email, coalesce(sum(linkedin), 0) AS linkedin,
               coalesce(sum(twitter), 0) AS twitter, coalesce(sum(facebook), 0) AS facebook,
               coalesce(sum(instagram), 0) AS instagram, coalesce(sum(google_ads), 0) AS google_ads,
               sum(scored) AS scored, sum(score_sum) AS score_sum
          FROM owner_summary WHERE user_id = owner) AS s);
END
$$;
COMMENT ON FUNCTION campaign_stats(uuid) IS 'Campaign and content totals for one owner, as GET /api/campaigns/stats returns them: the sums of the owner''s owner_summary and owner_budget slots.';

GRANT SELECT ON owner_summary, owner_budget TO adcraft_api, adcraft_analyst;

-- A list row cost ~40 us: the A/B test count's subquery kept the function
-- from being inlined, so each row was passed whole, and making the row a
-- value reads content out of TOAST (all of it, for nothing: the count was
-- jsonb_array_length(content)). Now the body inlines into plain column
-- reads, the count comes from content_tally (0006, inline) and the A/B
-- tests are counted by a function of the id (plpgsql: its plan is kept for
-- the session, not made again by every request): ~13 us a row, content unread.
CREATE FUNCTION campaign_ab_test_count(campaign uuid) RETURNS bigint
    LANGUAGE plpgsql STABLE PARALLEL SAFE
AS $$ BEGIN RETURN (SELECT count(*) FROM ab_tests t WHERE t.campaign_id = campaign); END $$;
COMMENT ON FUNCTION campaign_ab_test_count(uuid) IS 'Number of ab_tests rows of a campaign (campaign_summary_json''s abTestCount adds the legacy embedded ones).';

CREATE OR REPLACE FUNCTION campaign_summary_json(c campaigns) RETURNS json
    LANGUAGE sql STABLE PARALLEL SAFE
    RETURN json_build_object(
        'id', c.id, 'userId', c.user_id, 'personaId', c.persona_id, 'brandProfileId', c.brand_profile_id,
        'name', c.name, 'product', c.product,
        'description', c.description, 'objective', c.objective, 'status', c.status,
        'budget', c.budget, 'currency', c.currency, 'startDate', c.start_date, 'endDate', c.end_date,
        'tone', c.tone, 'keywords', c.keywords, 'generationSettings', c.generation_settings,
        'contentCount', (c.content_tally->>'total')::int,
        'abTestCount', jsonb_array_length(c.ab_tests) + campaign_ab_test_count(c.id),
        'createdAt', rfc3339(c.created_at), 'updatedAt', rfc3339(c.updated_at));
COMMENT ON FUNCTION campaign_summary_json(campaigns) IS 'API list representation of a campaign: content (content_tally) and A/B tests (campaign_ab_test_count) counted, not included. Inlined by the planner: keep it one expression without subqueries.';

-- The dashboard's top content: the five best items (score, then createdAt,
-- both descending) lie in the five campaigns whose best item is best (a
-- campaign ranked below five others has five better items ahead of all of
-- its own). Ordering campaigns by their best item needs its createdAt too:
-- without it the dashboard had to unpack every campaign tying with the
-- fifth best score (173 of 10k in the seeded data), and a custom plan with
-- an unknown threshold chose a parallel scan of the whole table (80 ms).
-- An expression index, not a generated column: no table rewrite.
CREATE FUNCTION content_top_created(content jsonb) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN (SELECT max(e->>'createdAt') FROM jsonb_array_elements(content) AS e
             WHERE (e->>'qualityScore')::int = (SELECT max((x->>'qualityScore')::int)
                                                  FROM jsonb_array_elements(content) AS x));
COMMENT ON FUNCTION content_top_created(jsonb) IS 'createdAt (text, as stored) of the newest of the best-scored items of a content array; with content_top_score, the order of campaigns_user_top_idx.';

DROP INDEX campaigns_user_top_idx;
CREATE INDEX campaigns_user_top_idx
    ON campaigns (user_id, content_top_score DESC NULLS LAST, content_top_created(content) DESC);

-- campaign_json (GET, create, update) calls this for abTests; as a SQL
-- function with a subquery it was neither inlined nor kept: every request
-- planned its query again (~0.35 ms a call against ~0.12-0.2 ms in plpgsql,
-- loaded machine). Same expression, plan kept for the session.
CREATE OR REPLACE FUNCTION campaign_ab_tests(c campaigns) RETURNS jsonb
    LANGUAGE plpgsql STABLE PARALLEL SAFE
AS $$
BEGIN
    RETURN c.ab_tests || coalesce((SELECT jsonb_agg(ab_test_seed_json(t) ORDER BY t.created_at, t.id)
                                     FROM ab_tests t WHERE t.campaign_id = c.id), '[]');
END
$$;
