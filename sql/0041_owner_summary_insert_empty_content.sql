-- 0041_owner_summary_insert_empty_content: a campaign inserted without
-- content adds only its counts to its owner's summary (issue #14 §2: create).
--
-- Every API create inserts a campaign whose content is empty: its twelve
-- content tallies are zero. campaigns_owner_summary_insert() (0031) still
-- turned content_tally into a row (jsonb_populate_record: a record type and
-- twelve input functions looked up again in every transaction, so at every
-- create) and added its twelve zeros to the slot row, twenty SET terms in
-- all. It now takes one of two UPDATEs of the slot row: the campaign's counts
-- (status, objective) when it has no items, and those with its content
-- tallies when it has (SQL inserts, adcraft seed). Either way one row
-- version per insert: a second UPDATE for the content, tried first, halved
-- the seed's rate (the slot row's versions of one batch's transaction cannot
-- be pruned, and each UPDATE walks them).
--
-- callgrind, the API's INSERT (205 against 5 executions in postgres --single,
-- generic plan, a 12,000-campaign seed): 1,249,100 -> 1,160,800 instructions
-- per create (-7.1%). wrk POST /api/campaigns on one stack, the two functions
-- in turn, three 8 s runs each: 3,434-3,985 req/s before, 4,036-4,323 after.
-- Only the function changes: nothing is rewritten, no lock but the catalog's.

CREATE OR REPLACE FUNCTION campaigns_owner_summary_insert() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, public
AS $$
DECLARE
    s int := owner_summary_slot(NEW.user_id);
    n_items int := (NEW.content_tally->>'total')::int;
    -- The content tallies as a row, only when there are items (the row type's
    -- names are the tally's keys but for items, which the tally calls total).
    t owner_summary;
BEGIN
    IF n_items > 0 THEN
        t := jsonb_populate_record(NULL::owner_summary, NEW.content_tally);
    END IF;
    LOOP
        IF n_items = 0 THEN
            UPDATE owner_summary o SET
                   campaigns = o.campaigns + 1,
                   draft = o.draft + (NEW.status = 'draft')::int,
                   active = o.active + (NEW.status = 'active')::int,
                   generating = o.generating + (NEW.status = 'generating')::int,
                   completed = o.completed + (NEW.status = 'completed')::int,
                   awareness = o.awareness + (NEW.objective = 'awareness')::int,
                   consideration = o.consideration + (NEW.objective = 'consideration')::int,
                   conversion = o.conversion + (NEW.objective = 'conversion')::int
             WHERE o.user_id = NEW.user_id AND o.slot = s;
        ELSE
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
        END IF;
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
COMMENT ON FUNCTION campaigns_owner_summary_insert() IS 'Row trigger function of campaigns for INSERT: adds the new campaign (status, objective, budget, and content_tally when it has items) to its owner''s slot in owner_summary and owner_budget, one UPDATE per table (a backend''s first write to the slot inserts its zero row first). Updates and deletes: campaigns_owner_summary().';
