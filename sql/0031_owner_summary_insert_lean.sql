-- 0031_owner_summary_insert_lean: a campaign insert adds itself to its
-- owner's summary in two plain statements (issue #14 §2: create).
--
-- campaigns_owner_summary() (0021, 0026) serves inserts, updates and
-- deletes with one body: the differences between a new and an old row,
-- twenty coalesce(new) - coalesce(old) terms built as a row, then compared
-- with zero. plpgsql prepares each of those expressions once per
-- transaction, and an API create is a transaction of its own, so every
-- create paid for ~150 expression nodes (each with its EXECUTE permission
-- check) that an insert, with no old row, does not need. perf, one
-- connection inserting as the API does: the trigger was 25% of the backend's
-- CPU, 7.4 points of it preparing those expressions.
--
-- An insert now has its own trigger function: the owner's slot
-- (owner_summary_slot(), the advisory-lock choice 0026 made inline, now
-- shared), one UPDATE of the slot row with the new row's values (the
-- content tallies through jsonb_populate_record, one call for twelve
-- numbers),
-- and one UPDATE of the currency's budget row when there is a budget. A
-- backend's first write to a slot inserts the zero row, then updates it.
-- Updates and deletes keep campaigns_owner_summary(), which now takes
-- its slot from the same function.
--
-- Measured with one connection inserting as the API does, 300 inserts a
-- run, the two functions bound in turn, three runs each in the same minutes:
-- the trigger's time per insert (pg_stat_user_functions, track_functions =
-- pl) 120-151 us with 0026's function, 83-108 us with this one (owner_summary_slot
-- 7-10 us of it). The machine's speed drifts by 20% between minutes; the
-- same-minute pairs moved together.

-- The slot of owner_summary/owner_budget a writer of this owner takes:
-- this backend's (pid mod 8), or the next one while another transaction
-- writes it. A slot's row stays locked until the writer commits (its WAL
-- flush): 8 API connections held only 6 distinct pids mod 8 here, so two of
-- one owner's writers waited for each other's commit (UPDATE owner_summary:
-- 2.6 ms mean under wrk -c32 on POST /api/campaigns). A transaction
-- advisory lock per (owner, slot) marks the slot taken (no WAL); the row lock
-- still makes each increment atomic, so when all 8 are taken the writer waits
-- on its own slot.
CREATE FUNCTION owner_summary_slot(owner uuid) RETURNS integer
    LANGUAGE plpgsql
AS $$
DECLARE
    key int := hashtext('adcraft.owner_summary ' || owner::text);
    base int := pg_backend_pid() % 8;
BEGIN
    FOR i IN 0 .. 7 LOOP
        IF pg_try_advisory_xact_lock(key, (base + i) % 8) THEN
            RETURN (base + i) % 8;
        END IF;
    END LOOP;
    RETURN base;
END
$$;
COMMENT ON FUNCTION owner_summary_slot(uuid) IS 'The owner_summary/owner_budget slot (0..7) a writer of this owner takes in this transaction: the backend''s pid mod 8, or the next slot whose transaction advisory lock is free. Called by the campaigns_owner_summary* trigger functions.';
REVOKE EXECUTE ON FUNCTION owner_summary_slot(uuid) FROM PUBLIC;

CREATE FUNCTION campaigns_owner_summary_insert() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, public
AS $$
DECLARE
    s int := owner_summary_slot(NEW.user_id);
    -- The content tallies as a row (one call; the row type's names are the
    -- tally's keys but for items, which the tally calls total). As parameters
    -- of the UPDATE below, not a join: a FROM jsonb_to_record(...) made its
    -- plan a nested loop over a function scan, started at every insert.
    t owner_summary := jsonb_populate_record(NULL::owner_summary, NEW.content_tally);
    n_items int := (NEW.content_tally->>'total')::int;
BEGIN
    LOOP
        UPDATE owner_summary o SET
               campaigns = o.campaigns + 1,
               draft = o.draft + (NEW.status = 'draft')::int,
               active = o.active + (NEW.status = 'active')::int,
               generating = o.generating + (NEW.status = 'generating')::int,
               completed = o.completed + (NEW.status = 'completed')::int,
               awareness = o.awareness + (NEW.objective = 'awareness')::int,
               consideration = o.consideration + (NEW.objective = 'consideration')::int,
               conversion = o.conversion + (NEW.objective = 'conversion')::int,
               items = o.items + n_items, email = o.email + t.email, social_post = o.social_post + t.social_post,
               ad_copy = o.ad_copy + t.ad_copy, p_email = o.p_email + t.p_email,
               linkedin = o.linkedin + t.linkedin, twitter = o.twitter + t.twitter,
               facebook = o.facebook + t.facebook, instagram = o.instagram + t.instagram,
               google_ads = o.google_ads + t.google_ads, scored = o.scored + t.scored,
               score_sum = o.score_sum + t.score_sum
         WHERE o.user_id = NEW.user_id AND o.slot = s;
        EXIT WHEN FOUND;
        -- A backend's first write to this slot: the zero row, then the UPDATE
        -- again (also when another backend inserted it first).
        INSERT INTO owner_summary (user_id, slot) VALUES (NEW.user_id, s) ON CONFLICT (user_id, slot) DO NOTHING;
    END LOOP;
    IF NEW.budget IS NOT NULL THEN
        LOOP
            UPDATE owner_budget b SET budgets = b.budgets + 1, total = b.total + NEW.budget
             WHERE b.user_id = NEW.user_id AND b.currency = NEW.currency AND b.slot = s;
            EXIT WHEN FOUND;
            INSERT INTO owner_budget (user_id, currency, slot) VALUES (NEW.user_id, NEW.currency, s)
            ON CONFLICT (user_id, currency, slot) DO NOTHING;
        END LOOP;
    END IF;
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION campaigns_owner_summary_insert() IS 'Row trigger function of campaigns for INSERT: adds the new campaign (status, objective, content_tally, budget) to its owner''s slot in owner_summary and owner_budget, one UPDATE per table (a backend''s first write to the slot inserts its zero row first). Updates and deletes: campaigns_owner_summary().';

DROP TRIGGER campaigns_owner_summary_insert ON campaigns;
CREATE TRIGGER campaigns_owner_summary_insert AFTER INSERT ON campaigns
    FOR EACH ROW EXECUTE FUNCTION campaigns_owner_summary_insert();

-- Updates and deletes: 0026's function with its slot from owner_summary_slot().
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

        -- The slot: owner_summary_slot() (above).
        d.slot := owner_summary_slot(owner);
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
COMMENT ON FUNCTION campaigns_owner_summary() IS 'Row trigger function of campaigns for UPDATE and DELETE (inserts: campaigns_owner_summary_insert()): takes a deleted campaign out of its owner''s summary slot (owner_summary, owner_budget) and for an update adds the differences between the new and the old row (one upsert per table; a campaign moved to another owner leaves the old owner''s slot and joins the new one''s). Also correct for an INSERT. Plans kept for the session: nothing is planned per write.';
