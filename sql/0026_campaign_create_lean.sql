-- 0026_campaign_create_lean: POST /api/campaigns without planning anything
-- per request.
--
-- A create ran ~1 ms of PostgreSQL time single-client (pg_stat_statements,
-- loaded machine) and 2.5-3.6 ms with 8 concurrent writers:
--
-- 1. The owner-summary trigger (0021) built an owner_tally[] and called
--    owner_summary_add(), whose two upserts unnest and GROUP BY that array:
--    0.24-0.32 ms a call single-client, 1.06 ms with 8 clients, of which
--    the upserts' own execution was 0.09 ms. Now the trigger does it itself
--    with scalars: the differences (new row less old row) computed in place,
--    one statement per table even for an update, every plan kept for the
--    session. An update that keeps the owner is one write, as before; a
--    campaign moved to another owner is taken out of the old owner's slot,
--    then added to the new owner's. The slot row is written with a plain
--    UPDATE (one WAL record, where INSERT ... ON CONFLICT DO UPDATE locks
--    the row first: two), and a writer takes the next free slot rather than
--    wait for another connection's commit on a shared pid mod 8.
--
-- 2. The generated columns content_tally and content_top_score (0006) and the
--    index expression content_top_created (0021) are SQL functions whose body
--    is a subquery: not inlined, so the SQL-function executor parsed and
--    planned each body once per statement (~100-130 us each here, for an
--    empty content array as for a full one; every insert, and every update
--    that rewrites content). Same queries in plpgsql: their plans are kept
--    for the session (~13 us a call). IMMUTABLE as before and the same
--    results, so the stored columns and campaigns_user_top_idx stay valid.
--
-- (The INSERT's RETURNING now builds the JSON with campaign_json(c,
-- c.ab_tests): a campaign just inserted has no ab_tests rows, and
-- campaign_json(c) planned campaign_ab_tests' body on every call; see
-- src/core/statements.c.)

CREATE OR REPLACE FUNCTION campaigns_owner_summary() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, public
AS $$
DECLARE
    -- The owner whose slot changes, the row added to it (n_*) and the row
    -- taken out of it (o_*); a NULL status means no such row.
    owner uuid;
    n_status text; n_objective text; n_budget numeric; n_currency text; n_t jsonb;
    o_status text; o_objective text; o_budget numeric; o_currency text; o_t jsonb;
    moved boolean := TG_OP = 'UPDATE' AND OLD.user_id IS DISTINCT FROM NEW.user_id;
    d owner_summary;           -- the differences, for the owner's slot
    slot_key int;              -- the owner's advisory-lock key (with the slot number)
    base int := pg_backend_pid() % 8;
    b_currency text;           -- the one currency whose budget totals change, if one
    b_count int;
    b_total numeric;
BEGIN
    IF TG_OP <> 'INSERT' THEN
        owner := OLD.user_id;
        o_status := OLD.status; o_objective := OLD.objective; o_budget := OLD.budget;
        o_currency := OLD.currency; o_t := OLD.content_tally;
    END IF;
    IF TG_OP <> 'DELETE' AND NOT moved THEN
        owner := NEW.user_id;
        n_status := NEW.status; n_objective := NEW.objective; n_budget := NEW.budget;
        n_currency := NEW.currency; n_t := NEW.content_tally;
    END IF;
    LOOP
        -- Rows taken out of an owner being deleted (ON DELETE CASCADE removes
        -- their campaigns) are skipped: their summary goes with them.
        EXIT WHEN n_status IS NULL AND NOT EXISTS (SELECT FROM users u WHERE u.id = owner);

        -- The slot: this backend's (pid mod 8), or the next one while
        -- another transaction is writing it. A slot's row stays locked until
        -- the writer commits (its WAL flush): 8 API connections held only 6
        -- distinct pids mod 8 here, so two of one owner's writers waited for
        -- each other's commit (UPDATE owner_summary: 2.6 ms mean under wrk
        -- -c32 on POST /api/campaigns). A transaction advisory lock per (owner,
        -- slot) marks the slot taken (no WAL); the row lock still makes each
        -- increment atomic, so when all 8 are taken the writer waits on its
        -- own slot as before.
        slot_key := hashtext('adcraft.owner_summary ' || owner::text);
        d.slot := base;
        FOR i IN 0 .. 7 LOOP
            IF pg_try_advisory_xact_lock(slot_key, (base + i) % 8) THEN
                d.slot := (base + i) % 8;
                EXIT;
            END IF;
        END LOOP;
        d := ROW(owner, d.slot,
                 (n_status IS NOT NULL)::int - (o_status IS NOT NULL)::int,
                 coalesce((n_status = 'draft')::int, 0) - coalesce((o_status = 'draft')::int, 0),
                 coalesce((n_status = 'active')::int, 0) - coalesce((o_status = 'active')::int, 0),
                 coalesce((n_status = 'generating')::int, 0) - coalesce((o_status = 'generating')::int, 0),
                 coalesce((n_status = 'completed')::int, 0) - coalesce((o_status = 'completed')::int, 0),
                 coalesce((n_objective = 'awareness')::int, 0) - coalesce((o_objective = 'awareness')::int, 0),
                 coalesce((n_objective = 'consideration')::int, 0) - coalesce((o_objective = 'consideration')::int, 0),
                 coalesce((n_objective = 'conversion')::int, 0) - coalesce((o_objective = 'conversion')::int, 0),
                 coalesce((n_t->>'total')::int, 0) - coalesce((o_t->>'total')::int, 0),
                 coalesce((n_t->>'email')::int, 0) - coalesce((o_t->>'email')::int, 0),
                 coalesce((n_t->>'social_post')::int, 0) - coalesce((o_t->>'social_post')::int, 0),
                 coalesce((n_t->>'ad_copy')::int, 0) - coalesce((o_t->>'ad_copy')::int, 0),
                 coalesce((n_t->>'p_email')::int, 0) - coalesce((o_t->>'p_email')::int, 0),
                 coalesce((n_t->>'linkedin')::int, 0) - coalesce((o_t->>'linkedin')::int, 0),
                 coalesce((n_t->>'twitter')::int, 0) - coalesce((o_t->>'twitter')::int, 0),
                 coalesce((n_t->>'facebook')::int, 0) - coalesce((o_t->>'facebook')::int, 0),
                 coalesce((n_t->>'instagram')::int, 0) - coalesce((o_t->>'instagram')::int, 0),
                 coalesce((n_t->>'google_ads')::int, 0) - coalesce((o_t->>'google_ads')::int, 0),
                 coalesce((n_t->>'scored')::int, 0) - coalesce((o_t->>'scored')::int, 0),
                 coalesce((n_t->>'score_sum')::numeric, 0) - coalesce((o_t->>'score_sum')::numeric, 0));

        -- The slot row: an UPDATE (one WAL record; INSERT ... ON CONFLICT DO
        -- UPDATE locks the row first, two), inserted by a backend's first
        -- write for this owner; the loop retries the UPDATE if another
        -- backend with the same slot inserted it first.
        WHILE (d.campaigns, d.draft, d.active, d.generating, d.completed, d.awareness, d.consideration, d.conversion,
               d.items, d.email, d.social_post, d.ad_copy, d.p_email, d.linkedin, d.twitter, d.facebook,
               d.instagram, d.google_ads, d.scored, d.score_sum)
              IS DISTINCT FROM (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0::numeric) LOOP
            UPDATE owner_summary s SET
                   campaigns = s.campaigns + d.campaigns, draft = s.draft + d.draft, active = s.active + d.active,
                   generating = s.generating + d.generating, completed = s.completed + d.completed,
                   awareness = s.awareness + d.awareness, consideration = s.consideration + d.consideration,
                   conversion = s.conversion + d.conversion, items = s.items + d.items, email = s.email + d.email,
                   social_post = s.social_post + d.social_post, ad_copy = s.ad_copy + d.ad_copy,
                   p_email = s.p_email + d.p_email, linkedin = s.linkedin + d.linkedin,
                   twitter = s.twitter + d.twitter, facebook = s.facebook + d.facebook,
                   instagram = s.instagram + d.instagram, google_ads = s.google_ads + d.google_ads,
                   scored = s.scored + d.scored, score_sum = s.score_sum + d.score_sum
             WHERE s.user_id = d.user_id AND s.slot = d.slot;
            EXIT WHEN FOUND;
            INSERT INTO owner_summary SELECT d.* ON CONFLICT (user_id, slot) DO NOTHING;
            EXIT WHEN FOUND;
        END LOOP;

        -- Budgets: the totals of one currency change, or of two when a
        -- budgeted campaign changes currency (rare: one upsert of both, in
        -- currency order, as owner_summary_add does).
        IF n_budget IS NOT NULL AND o_budget IS NOT NULL AND n_currency <> o_currency THEN
            INSERT INTO owner_budget AS b (user_id, currency, slot, budgets, total)
            SELECT owner, x.currency, d.slot, x.budgets, x.total
              FROM (VALUES (n_currency, 1, n_budget), (o_currency, -1, -o_budget)) AS x (currency, budgets, total)
             ORDER BY x.currency
            ON CONFLICT (user_id, currency, slot) DO UPDATE SET
                   budgets = b.budgets + excluded.budgets, total = b.total + excluded.total;
        ELSIF n_budget IS NOT NULL OR o_budget IS NOT NULL THEN
            b_currency := CASE WHEN n_budget IS NOT NULL THEN n_currency ELSE o_currency END;
            b_count := (n_budget IS NOT NULL)::int - (o_budget IS NOT NULL)::int;
            b_total := coalesce(n_budget, 0) - coalesce(o_budget, 0);
            WHILE b_count <> 0 OR b_total <> 0 LOOP
                UPDATE owner_budget b SET budgets = b.budgets + b_count, total = b.total + b_total
                 WHERE b.user_id = owner AND b.currency = b_currency AND b.slot = d.slot;
                EXIT WHEN FOUND;
                INSERT INTO owner_budget (user_id, currency, slot, budgets, total)
                VALUES (owner, b_currency, d.slot, b_count, b_total)
                ON CONFLICT (user_id, currency, slot) DO NOTHING;
                EXIT WHEN FOUND;
            END LOOP;
        END IF;

        -- A campaign moved to another owner: out of the old owner's slot
        -- (above), then into the new owner's.
        EXIT WHEN NOT moved;
        moved := false;
        owner := NEW.user_id;
        o_status := NULL; o_objective := NULL; o_budget := NULL; o_currency := NULL; o_t := NULL;
        n_status := NEW.status; n_objective := NEW.objective; n_budget := NEW.budget;
        n_currency := NEW.currency; n_t := NEW.content_tally;
    END LOOP;
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION campaigns_owner_summary() IS 'Row trigger function of campaigns: adds an inserted campaign to its owner''s summary slot (owner_summary, owner_budget), takes a deleted one out, and for an update adds the differences between the new and the old row (one upsert per table; a campaign moved to another owner leaves the old owner''s slot and joins the new one''s). Plans kept for the session: nothing is planned per write.';

-- The generated columns' and the index expression's functions: same
-- queries, plpgsql so that their plans are kept for the session.
CREATE OR REPLACE FUNCTION content_tally(content jsonb) RETURNS jsonb
    LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
AS $$
BEGIN
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
    RETURN (SELECT max((e.value->>'qualityScore')::integer) FROM jsonb_array_elements(content_top_score.content) AS e (value));
END
$$;

CREATE OR REPLACE FUNCTION content_top_created(content jsonb) RETURNS text
    LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
AS $$
BEGIN
    RETURN (SELECT max(e.value->>'createdAt') FROM jsonb_array_elements(content_top_created.content) AS e (value)
             WHERE (e.value->>'qualityScore')::integer
                   = (SELECT max((x.value->>'qualityScore')::integer)
                        FROM jsonb_array_elements(content_top_created.content) AS x (value)));
END
$$;

-- The list page (GET /api/campaigns): abTestCount called
-- campaign_ab_test_count(id), a plpgsql function, once per row: ~8 us a
-- row, 45% of a page of 20 (0.41 ms; 0.24 ms without it). The list
-- statements now count with a subquery in their own plan (an index-only
-- probe of ab_tests_campaign_idx, ~1 us a row) and pass the count in.
CREATE FUNCTION campaign_summary_json(c campaigns, ab_test_rows bigint) RETURNS json
    LANGUAGE sql STABLE PARALLEL SAFE
    RETURN json_build_object(
        'id', c.id, 'userId', c.user_id, 'personaId', c.persona_id, 'brandProfileId', c.brand_profile_id,
        'name', c.name, 'product', c.product,
        'description', c.description, 'objective', c.objective, 'status', c.status,
        'budget', c.budget, 'currency', c.currency, 'startDate', c.start_date, 'endDate', c.end_date,
        'tone', c.tone, 'keywords', c.keywords, 'generationSettings', c.generation_settings,
        'contentCount', (c.content_tally->>'total')::int,
        'abTestCount', jsonb_array_length(c.ab_tests) + ab_test_rows,
        'createdAt', rfc3339(c.created_at), 'updatedAt', rfc3339(c.updated_at));
COMMENT ON FUNCTION campaign_summary_json(campaigns, bigint) IS 'API list representation of a campaign given the number of its ab_tests rows (the caller counts them in its own plan: (SELECT count(*) FROM ab_tests t WHERE t.campaign_id = c.id)). Inlined: keep it one expression without subqueries.';

CREATE OR REPLACE FUNCTION campaign_summary_json(c campaigns) RETURNS json
    LANGUAGE sql STABLE PARALLEL SAFE
    RETURN campaign_summary_json(c, campaign_ab_test_count(c.id));
