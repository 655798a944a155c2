-- 0016_ab_tests: A/B tests as a resource (issue #12 section 3), and email A/B
-- sends.
--
-- An A/B test compares 2..5 content items of one campaign (its variants,
-- keys A..E in order; A is the control) on one metric. The API computes the
-- sample each variant needs (two-proportion power analysis, src/stats/) when
-- the test is created or changed; results are read from the analytics
-- rollups since started_at; the analytics-processing queue re-evaluates
-- running tests after each rollup and completes a decided one (src/abtest/).
-- Tests of a campaign still show in the campaign's abTests array, in the
-- seed's shape, after the entries clients wrote before this migration (which
-- stay, read-only).
--
-- Email A/B: a send may name a test. Approval then gives each variant's
-- email to a stable random fraction of the list and holds the rest
-- (send_recipients.status held); when the test completes (a decision, a
-- manual winner, winnerAfter's timeout, or a stop: the control) the held
-- recipients get the winner.

-- Whether v is a valid variants array: 2..5 objects {key, contentId, weight}
-- exactly, keys A, B, C... in order, contentIds distinct UUIDs, weights > 0.
CREATE FUNCTION ab_variants_valid(v jsonb) RETURNS boolean
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN jsonb_typeof(v) = 'array' AND jsonb_array_length(v) BETWEEN 2 AND 5
       AND (SELECT bool_and(jsonb_typeof(e) = 'object'
                            AND (SELECT count(*) FROM jsonb_object_keys(e)) = 3
                            AND e->>'key' = chr(64 + n::int)
                            AND jsonb_typeof(e->'contentId') = 'string'
                            AND e->>'contentId' ~ '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'
                            AND jsonb_typeof(e->'weight') = 'number' AND (e->>'weight')::numeric > 0)
              FROM jsonb_array_elements(v) WITH ORDINALITY AS x(e, n))
       AND (SELECT count(DISTINCT e->>'contentId') FROM jsonb_array_elements(v) e) = jsonb_array_length(v);
COMMENT ON FUNCTION ab_variants_valid(jsonb) IS 'CHECK of ab_tests.variants: 2..5 {key A..E in order, contentId (distinct, lower-case UUID), weight > 0}.';

CREATE TABLE ab_tests (
    id                          uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id                     uuid        NOT NULL REFERENCES users ON DELETE CASCADE,
    campaign_id                 uuid        NOT NULL,
    name                        text        NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    metric                      text        NOT NULL CHECK (metric IN ('open_rate', 'click_rate', 'conversion_rate')),
    status                      text        NOT NULL DEFAULT 'draft'
        CHECK (status IN ('draft', 'running', 'completed', 'stopped')),
    variants                    jsonb       NOT NULL,
    confidence_level            numeric     NOT NULL DEFAULT 0.95 CHECK (confidence_level BETWEEN 0.8 AND 0.99),
    minimum_detectable_effect   numeric     NOT NULL DEFAULT 0.1
        CHECK (minimum_detectable_effect >= 0.01 AND minimum_detectable_effect <= 10),
    power                       numeric     NOT NULL DEFAULT 0.8 CHECK (power BETWEEN 0.5 AND 0.99),
    baseline_rate               numeric     NOT NULL CHECK (baseline_rate > 0 AND baseline_rate < 1),
    required_sample_per_variant bigint      NOT NULL CHECK (required_sample_per_variant > 0),
    winner                      text,
    winner_reason               text        CHECK (winner_reason IN ('significant', 'manual', 'timeout')),
    winner_note                 text        CHECK (length(winner_note) <= 1000),
    min_p_values                double precision[],
    started_at                  timestamptz,
    ended_at                    timestamptz,
    created_at                  timestamptz NOT NULL DEFAULT now(),
    updated_at                  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (user_id, id),
    CONSTRAINT ab_tests_campaign_fkey FOREIGN KEY (user_id, campaign_id) REFERENCES campaigns (user_id, id)
        ON DELETE CASCADE,
    -- 2..5 variants {key A..E in order, contentId, weight > 0}, distinct content items
    CONSTRAINT ab_tests_variants CHECK (ab_variants_valid(variants)),
    -- the alternative must still be detectable: baseline * (1 + mde) is a rate
    CONSTRAINT ab_tests_detectable CHECK (baseline_rate * (1 + minimum_detectable_effect) < 1),
    -- fields agree with the status
    CONSTRAINT ab_tests_draft CHECK (status <> 'draft' OR (started_at IS NULL AND ended_at IS NULL
                                                           AND winner IS NULL AND min_p_values IS NULL)),
    CONSTRAINT ab_tests_running CHECK (status <> 'running' OR (started_at IS NOT NULL AND ended_at IS NULL
                                                               AND winner IS NULL)),
    CONSTRAINT ab_tests_ended CHECK (status NOT IN ('completed', 'stopped')
                                     OR (started_at IS NOT NULL AND ended_at >= started_at)),
    CONSTRAINT ab_tests_stopped CHECK (status <> 'stopped' OR winner IS NULL),
    CONSTRAINT ab_tests_winner_reason CHECK ((winner IS NULL) = (winner_reason IS NULL)),
    CONSTRAINT ab_tests_winner_note CHECK (winner_note IS NULL OR winner_reason = 'manual'),
    CONSTRAINT ab_tests_winner_key CHECK (winner IS NULL OR variants @> jsonb_build_array(jsonb_build_object('key', winner))),
    CONSTRAINT ab_tests_min_p CHECK (min_p_values IS NULL
                                     OR cardinality(min_p_values) = jsonb_array_length(variants) - 1)
);
CREATE INDEX ab_tests_campaign_idx ON ab_tests (campaign_id, created_at DESC, id DESC);
CREATE INDEX ab_tests_user_idx ON ab_tests (user_id, created_at DESC, id DESC);
-- the re-evaluation after a rollup: running tests of the touched campaigns
CREATE INDEX ab_tests_running_idx ON ab_tests (campaign_id) WHERE status = 'running';

COMMENT ON TABLE ab_tests IS 'A/B tests: 2..5 content items of a campaign compared on one metric, with a sequential (always-valid) decision; docs/analytics.md "A/B tests".';
COMMENT ON COLUMN ab_tests.id IS 'Public identifier.';
COMMENT ON COLUMN ab_tests.user_id IS 'Owner (the campaign''s); every API statement filters on it.';
COMMENT ON COLUMN ab_tests.campaign_id IS 'The campaign whose content items are compared (same-owner foreign key).';
COMMENT ON COLUMN ab_tests.name IS 'Label, 1..200 characters (abTests[].testName).';
COMMENT ON COLUMN ab_tests.metric IS 'open_rate = unique_opens/impressions, click_rate = unique_clicks/impressions, conversion_rate = conversions/impressions (analytics rollups).';
COMMENT ON COLUMN ab_tests.status IS 'draft -> running -> completed (decided, manual or timeout winner, or no difference) | stopped (by the owner). Moves are checked by ab_tests_transition().';
COMMENT ON COLUMN ab_tests.variants IS 'JSON array of 2..5 {key, contentId, weight}: keys A..E in order, A is the control; distinct content items of the campaign; weights > 0 split an email A/B send''s test fraction.';
COMMENT ON COLUMN ab_tests.confidence_level IS '1 - alpha of the decision (0.8..0.99), family-wise over the comparisons with the control (Holm).';
COMMENT ON COLUMN ab_tests.minimum_detectable_effect IS 'Relative lift over the baseline the power analysis sizes the test for (0.1 = +10%).';
COMMENT ON COLUMN ab_tests.power IS 'Probability of detecting the minimum detectable effect (0.5..0.99).';
COMMENT ON COLUMN ab_tests.baseline_rate IS 'Expected rate of the control for the power analysis; defaults by metric when not given: open_rate 0.2, click_rate 0.03, conversion_rate 0.02.';
COMMENT ON COLUMN ab_tests.required_sample_per_variant IS 'Samples (impressions) each variant needs: the two-proportion power analysis of the sequential test itself (stats_msprt_sample_size: the mSPRT detects baseline -> baseline x (1 + mde) with this power, alpha split over the comparisons), computed by the API when the test is created or changed.';
COMMENT ON COLUMN ab_tests.winner IS 'The winning variant''s key; NULL while undecided, when stopped, or when completed with no difference.';
COMMENT ON COLUMN ab_tests.winner_reason IS 'significant (the sequential test decided), manual (promoted by the owner), timeout (an email A/B send''s winnerAfter passed: best observed rate).';
COMMENT ON COLUMN ab_tests.winner_note IS 'The reason the owner gave for a manual winner.';
COMMENT ON COLUMN ab_tests.min_p_values IS 'Running minimum of each comparison''s always-valid p-value (variant B.. vs A, in order), stored by each re-evaluation; NULL before the first.';
COMMENT ON COLUMN ab_tests.started_at IS 'When it started running; results count rollup hours from here.';
COMMENT ON COLUMN ab_tests.ended_at IS 'When it completed or was stopped.';
COMMENT ON COLUMN ab_tests.created_at IS 'Creation time; with id, the list order.';
COMMENT ON COLUMN ab_tests.updated_at IS 'Last change.';

-- Status moves, and what may change in each status: the definition (name,
-- metric, variants, design) only in draft; nothing once ended.
CREATE TABLE ab_test_status_transitions (
    from_status text NOT NULL,
    to_status   text NOT NULL,
    PRIMARY KEY (from_status, to_status)
);
INSERT INTO ab_test_status_transitions VALUES
    ('draft', 'running'),
    ('running', 'completed'),
    ('running', 'stopped'),
    ('stopped', 'completed');   -- a manual winner after a stop
COMMENT ON TABLE ab_test_status_transitions IS 'The status moves ab_tests allows (trigger ab_tests_transition); the same status is always allowed.';
COMMENT ON COLUMN ab_test_status_transitions.from_status IS 'Status before.';
COMMENT ON COLUMN ab_test_status_transitions.to_status IS 'Status after.';

CREATE FUNCTION ab_tests_transition() RETURNS trigger
    LANGUAGE plpgsql
AS $$
BEGIN
    IF NEW.status <> OLD.status AND NOT EXISTS (
           SELECT FROM ab_test_status_transitions WHERE from_status = OLD.status AND to_status = NEW.status) THEN
        RAISE EXCEPTION 'an A/B test cannot go from % to %', OLD.status, NEW.status USING ERRCODE = '55000';
    END IF;
    IF OLD.status <> 'draft' AND (NEW.name, NEW.metric, NEW.variants, NEW.confidence_level,
                                  NEW.minimum_detectable_effect, NEW.power, NEW.baseline_rate,
                                  NEW.required_sample_per_variant, NEW.campaign_id)
                                 IS DISTINCT FROM
                                 (OLD.name, OLD.metric, OLD.variants, OLD.confidence_level,
                                  OLD.minimum_detectable_effect, OLD.power, OLD.baseline_rate,
                                  OLD.required_sample_per_variant, OLD.campaign_id) THEN
        RAISE EXCEPTION 'an A/B test can be changed only in draft' USING ERRCODE = '55000';
    END IF;
    IF OLD.status = 'completed' AND ROW(NEW.*) IS DISTINCT FROM ROW(OLD.*) THEN
        RAISE EXCEPTION 'a completed A/B test does not change' USING ERRCODE = '55000';
    END IF;
    RETURN NEW;
END
$$;
COMMENT ON FUNCTION ab_tests_transition() IS 'BEFORE UPDATE on ab_tests: only the moves of ab_test_status_transitions; the definition changes only in draft; a completed test is final.';
CREATE TRIGGER ab_tests_transition BEFORE UPDATE ON ab_tests FOR EACH ROW EXECUTE FUNCTION ab_tests_transition();

-- The variants must be content items of the test's campaign (content is JSONB
-- in campaigns, so no foreign key can say it).
CREATE FUNCTION ab_tests_items() RETURNS trigger
    LANGUAGE plpgsql
AS $$
BEGIN
    IF EXISTS (SELECT FROM jsonb_array_elements(NEW.variants) v
                WHERE NOT EXISTS (SELECT FROM campaigns c, jsonb_array_elements(c.content) e
                                   WHERE c.id = NEW.campaign_id AND e->>'id' = v->>'contentId')) THEN
        RAISE EXCEPTION 'every variant must be a content item of the campaign' USING ERRCODE = 'ACT01';
    END IF;
    RETURN NEW;
END
$$;
COMMENT ON FUNCTION ab_tests_items() IS 'BEFORE INSERT or UPDATE OF variants on ab_tests: every contentId is an item of the campaign (ACT01).';
CREATE TRIGGER ab_tests_items BEFORE INSERT OR UPDATE OF variants, campaign_id ON ab_tests
    FOR EACH ROW EXECUTE FUNCTION ab_tests_items();

CREATE FUNCTION ab_test_json(t ab_tests) RETURNS json
    LANGUAGE sql STABLE PARALLEL SAFE
    RETURN json_build_object(
        'id', t.id, 'campaignId', t.campaign_id, 'name', t.name, 'metric', t.metric, 'status', t.status,
        'variants', t.variants, 'confidenceLevel', t.confidence_level,
        'minimumDetectableEffect', t.minimum_detectable_effect, 'power', t.power, 'baselineRate', t.baseline_rate,
        'requiredSamplePerVariant', t.required_sample_per_variant,
        'winner', t.winner, 'winnerReason', t.winner_reason, 'winnerNote', t.winner_note,
        'startedAt', rfc3339(t.started_at), 'endedAt', rfc3339(t.ended_at),
        'createdAt', rfc3339(t.created_at), 'updatedAt', rfc3339(t.updated_at));
COMMENT ON FUNCTION ab_test_json(ab_tests) IS 'API representation of an A/B test.';

-- The shape campaigns' abTests entries had (the seed's, validated by the
-- campaign API before this migration), so clients that read it keep working.
-- stopped shows as completed without a winner (the old shape has no stopped).
CREATE FUNCTION ab_test_seed_json(t ab_tests) RETURNS jsonb
    LANGUAGE sql STABLE PARALLEL SAFE
    RETURN jsonb_build_object(
        'id', t.id, 'testName', t.name, 'testType', 'content',
        'status', CASE t.status WHEN 'stopped' THEN 'completed' ELSE t.status END,
        'variantA', jsonb_build_object('contentId', t.variants->0->'contentId', 'description', 'Variant A',
                                       'content', NULL),
        'variantB', jsonb_build_object('contentId', t.variants->1->'contentId', 'description', 'Variant B',
                                       'content', NULL),
        'variants', t.variants, 'metric', t.metric,
        'winner', t.winner,
        'startDate', (t.started_at AT TIME ZONE 'UTC')::date, 'endDate', (t.ended_at AT TIME ZONE 'UTC')::date);
COMMENT ON FUNCTION ab_test_seed_json(ab_tests) IS 'An A/B test as an entry of a campaign''s abTests array (the seed''s shape: testName, testType, status, variantA, variantB, winner, startDate, endDate; plus variants and metric).';

-- A campaign's abTests: the entries written before 0016 (read-only now), then its tests.
CREATE FUNCTION campaign_ab_tests(c campaigns) RETURNS jsonb
    LANGUAGE sql STABLE PARALLEL SAFE
    RETURN c.ab_tests || coalesce((SELECT jsonb_agg(ab_test_seed_json(t) ORDER BY t.created_at, t.id)
                                     FROM ab_tests t WHERE t.campaign_id = c.id), '[]');
COMMENT ON FUNCTION campaign_ab_tests(campaigns) IS 'The campaign''s abTests array: campaigns.ab_tests (written by clients before migration 0016) followed by its ab_tests rows in the seed''s shape.';

CREATE OR REPLACE FUNCTION campaign_json(c campaigns) RETURNS json
    LANGUAGE sql STABLE PARALLEL SAFE
    RETURN json_build_object(
        'id', c.id, 'userId', c.user_id, 'personaId', c.persona_id, 'brandProfileId', c.brand_profile_id,
        'name', c.name, 'product', c.product,
        'description', c.description, 'objective', c.objective, 'status', c.status,
        'budget', c.budget, 'currency', c.currency, 'startDate', c.start_date, 'endDate', c.end_date,
        'tone', c.tone, 'keywords', c.keywords, 'content', c.content, 'abTests', campaign_ab_tests(c),
        'generationSettings', c.generation_settings,
        'createdAt', rfc3339(c.created_at), 'updatedAt', rfc3339(c.updated_at));
COMMENT ON FUNCTION campaign_json(campaigns) IS 'API representation of a campaign, content and A/B tests (campaign_ab_tests) included.';

CREATE OR REPLACE FUNCTION campaign_summary_json(c campaigns) RETURNS json
    LANGUAGE sql STABLE PARALLEL SAFE
    RETURN json_build_object(
        'id', c.id, 'userId', c.user_id, 'personaId', c.persona_id, 'brandProfileId', c.brand_profile_id,
        'name', c.name, 'product', c.product,
        'description', c.description, 'objective', c.objective, 'status', c.status,
        'budget', c.budget, 'currency', c.currency, 'startDate', c.start_date, 'endDate', c.end_date,
        'tone', c.tone, 'keywords', c.keywords, 'generationSettings', c.generation_settings,
        'contentCount', jsonb_array_length(c.content),
        'abTestCount', jsonb_array_length(c.ab_tests) + (SELECT count(*) FROM ab_tests t WHERE t.campaign_id = c.id),
        'createdAt', rfc3339(c.created_at), 'updatedAt', rfc3339(c.updated_at));
COMMENT ON FUNCTION campaign_summary_json(campaigns) IS 'API list representation of a campaign: content and A/B tests (campaign_ab_tests) counted, not included.';

COMMENT ON COLUMN campaigns.ab_tests IS 'A/B tests clients wrote before migration 0016 ({id, testName, testType, status, variantA, variantB, winner, startDate}); read-only since (the API refuses abTests: tests are the ab_tests resource). The API''s abTests shows these, then the ab_tests rows (campaign_ab_tests).';

-- The owner's status moves: start (draft -> running), stop (running -> stopped).
-- NULL when the test is not the owner's; 55000 when it is not in the status the move starts from.
CREATE FUNCTION ab_test_move(owner uuid, test uuid, action text) RETURNS json
    LANGUAGE plpgsql
AS $$
DECLARE
    t ab_tests;
    from_status text := CASE action WHEN 'start' THEN 'draft' WHEN 'stop' THEN 'running' END;
BEGIN
    IF from_status IS NULL THEN
        RAISE EXCEPTION 'unknown action %', action USING ERRCODE = '22023';
    END IF;
    SELECT * INTO t FROM ab_tests WHERE id = test AND user_id = owner FOR UPDATE;
    IF NOT FOUND THEN
        RETURN NULL;
    END IF;
    IF t.status <> from_status THEN
        RAISE EXCEPTION 'a % A/B test cannot %', t.status, action USING ERRCODE = '55000';
    END IF;
    UPDATE ab_tests
       SET status = CASE action WHEN 'start' THEN 'running' WHEN 'stop' THEN 'stopped' END,
           started_at = CASE action WHEN 'start' THEN now() ELSE started_at END,
           ended_at = CASE action WHEN 'stop' THEN now() ELSE ended_at END,
           updated_at = now()
     WHERE id = test AND user_id = owner
    RETURNING * INTO t;
    IF NOT FOUND THEN
        RETURN NULL;
    END IF;
    RETURN ab_test_json(t);
END
$$;
COMMENT ON FUNCTION ab_test_move(uuid, uuid, text) IS 'POST /api/ab-tests/:id/start|stop.';

-- POST /api/ab-tests/:id/winner: the owner promotes any variant of a running
-- or stopped test, which completes with winner_reason manual. NULL when not
-- the owner's; ACT02 for an unknown variant; 55000 when the test is a draft or
-- completed (a completed test is final, with or without a winner).
CREATE FUNCTION ab_test_promote(owner uuid, test uuid, variant text, note text) RETURNS json
    LANGUAGE plpgsql
AS $$
DECLARE
    t ab_tests;
BEGIN
    SELECT * INTO t FROM ab_tests WHERE id = test AND user_id = owner FOR UPDATE;
    IF NOT FOUND THEN
        RETURN NULL;
    END IF;
    IF NOT t.variants @> jsonb_build_array(jsonb_build_object('key', variant)) THEN
        RAISE EXCEPTION 'no variant % in this test', variant USING ERRCODE = 'ACT02';
    END IF;
    IF t.status NOT IN ('running', 'stopped') THEN
        RAISE EXCEPTION 'a % test cannot get a winner', t.status USING ERRCODE = '55000';
    END IF;
    UPDATE ab_tests
       SET status = 'completed', winner = variant, winner_reason = 'manual', winner_note = note,
           ended_at = coalesce(ended_at, now()), updated_at = now()
     WHERE id = t.id
    RETURNING * INTO t;
    RETURN ab_test_json(t);
END
$$;
COMMENT ON FUNCTION ab_test_promote(uuid, uuid, text, text) IS 'POST /api/ab-tests/:id/winner: a manual winner completes a running or stopped test.';

-- The worker's decision: completes a running test with a winner (reason
-- significant or timeout) or with none (no difference). Nothing when it is no
-- longer running. Returns {abTestId, campaignId, userId, winner, winnerReason}.
CREATE FUNCTION ab_test_complete(test uuid, variant text, reason text) RETURNS json
    LANGUAGE sql
AS $$
    UPDATE ab_tests
       SET status = 'completed', winner = variant, winner_reason = reason, ended_at = now(), updated_at = now()
     WHERE id = test AND status = 'running'
    RETURNING json_build_object('abTestId', id, 'campaignId', campaign_id, 'userId', user_id,
                                'winner', winner, 'winnerReason', winner_reason)
$$;
COMMENT ON FUNCTION ab_test_complete(uuid, text, text) IS 'Completes a running test as the re-evaluation or an email send''s timeout decided (winner NULL: no difference); no row when it was not running.';

------------------------------------------------------------------------------
-- email A/B sends
------------------------------------------------------------------------------
ALTER TABLE sends
    ADD COLUMN ab_test_id uuid,
    ADD COLUMN test_fraction numeric CHECK (test_fraction BETWEEN 0.05 AND 0.5),
    ADD COLUMN winner_after integer CHECK (winner_after BETWEEN 60 AND 2592000),
    ADD COLUMN winner_due_at timestamptz,
    ADD COLUMN variant_snapshots jsonb CHECK (jsonb_typeof(variant_snapshots) = 'object'),
    ADD CONSTRAINT sends_ab_test_fkey FOREIGN KEY (user_id, ab_test_id) REFERENCES ab_tests (user_id, id),
    ADD CONSTRAINT sends_ab_fields CHECK ((ab_test_id IS NULL) = (test_fraction IS NULL)
                                          AND (ab_test_id IS NULL) = (winner_after IS NULL)
                                          AND (ab_test_id IS NULL) = (variant_snapshots IS NULL)
                                          AND (winner_due_at IS NULL OR ab_test_id IS NOT NULL));
-- one send per test (its results would mix two audiences otherwise)
CREATE UNIQUE INDEX sends_ab_test_key ON sends (ab_test_id) WHERE ab_test_id IS NOT NULL;

COMMENT ON COLUMN sends.ab_test_id IS 'Email A/B: the A/B test whose variants (email items of the campaign) go to a test fraction of the list; NULL for a plain send. At most one send per test.';
COMMENT ON COLUMN sends.test_fraction IS 'Email A/B: the share of the list (0.05..0.5) that receives the variants; the rest is held for the winner.';
COMMENT ON COLUMN sends.winner_after IS 'Email A/B: seconds after delivery may start (approval, or scheduled_at) when, if the test has not decided, the best observed rate wins (winner_reason timeout).';
COMMENT ON COLUMN sends.winner_due_at IS 'Email A/B: when winner_after passes (set at approval).';
COMMENT ON COLUMN sends.variant_snapshots IS 'Email A/B: {variant key: snapshot of its email item} taken when the send was created; snapshot holds the control''s (A).';

ALTER TABLE send_recipients
    ADD COLUMN variant text,
    ADD COLUMN content_id uuid,
    DROP CONSTRAINT send_recipients_status_check,
    ADD CONSTRAINT send_recipients_status_check
        CHECK (status IN ('queued', 'sending', 'sent', 'deferred', 'failed', 'bounced', 'suppressed', 'held')),
    ADD CONSTRAINT send_recipients_variant CHECK ((variant IS NULL) = (content_id IS NULL)),
    ADD CONSTRAINT send_recipients_held CHECK (status <> 'held' OR variant IS NULL);
COMMENT ON COLUMN send_recipients.variant IS 'Email A/B: the variant key the recipient was given (the test part by a hash of the test and contact, the rest the winner); NULL for plain sends and held recipients.';
COMMENT ON COLUMN send_recipients.content_id IS 'Email A/B: the content item of that variant (what analytics counts the impression and the opens against).';
COMMENT ON COLUMN send_recipients.status IS 'queued, sending (claimed by a worker: locked_by), sent, deferred (a 4xx or a connection failure: retried at next_attempt_at), failed, bounced (a 5xx: the contact is marked bounced), suppressed (the contact was not subscribed) or held (email A/B: waiting for the test''s winner).';

-- A contact's place in a test, uniform in [0, 1) and stable: the first 52
-- bits of md5(test:contact).
CREATE FUNCTION ab_bucket(test uuid, contact uuid) RETURNS double precision
    LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
    RETURN ('x' || left(md5(test::text || ':' || contact::text), 13))::bit(52)::bigint / 4503599627370496.0;
COMMENT ON FUNCTION ab_bucket(uuid, uuid) IS 'Email A/B assignment: a stable uniform number in [0, 1) from the test and the contact.';

-- The variant a test-part contact gets: u in [0, 1) split by the variants' weights.
CREATE FUNCTION ab_pick_variant(variants jsonb, u double precision) RETURNS jsonb
    LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
    RETURN (SELECT e FROM (SELECT e, n, sum((e->>'weight')::numeric) OVER (ORDER BY n) AS upto,
                                  sum((e->>'weight')::numeric) OVER () AS total
                             FROM jsonb_array_elements(variants) WITH ORDINALITY AS x(e, n)) w
             WHERE u * w.total < w.upto ORDER BY n LIMIT 1);
COMMENT ON FUNCTION ab_pick_variant(jsonb, double precision) IS 'Email A/B: the variant {key, contentId, weight} whose share of the weights holds u.';

CREATE OR REPLACE FUNCTION send_json(s sends) RETURNS json
    LANGUAGE sql STABLE PARALLEL SAFE
    RETURN json_build_object(
        'id', s.id, 'campaignId', s.campaign_id, 'contentId', s.content_id, 'listId', s.list_id,
        'abTestId', s.ab_test_id, 'testFraction', s.test_fraction, 'winnerAfter', s.winner_after,
        'winnerDueAt', rfc3339(s.winner_due_at), 'status', s.status,
        'subject', s.snapshot->>'subjectLine', 'preheader', s.snapshot->>'preheader',
        'fromName', s.from_name, 'fromEmail', s.from_email, 'replyTo', s.reply_to,
        'scheduledAt', rfc3339(s.scheduled_at), 'approvedAt', rfc3339(s.approved_at), 'approvedBy', s.approved_by,
        'snapshotHash', s.snapshot_hash, 'pauseReason', s.pause_reason,
        'counts', (SELECT json_build_object(
                       'recipients', count(*),
                       'queued', count(*) FILTER (WHERE r.status IN ('queued', 'sending')),
                       'held', count(*) FILTER (WHERE r.status = 'held'),
                       'sent', count(*) FILTER (WHERE r.status = 'sent'),
                       'deferred', count(*) FILTER (WHERE r.status = 'deferred'),
                       'failed', count(*) FILTER (WHERE r.status = 'failed'),
                       'bounced', count(*) FILTER (WHERE r.status = 'bounced'),
                       'suppressed', count(*) FILTER (WHERE r.status = 'suppressed'),
                       'opened', (SELECT count(DISTINCT e.recipient_id) FROM email_events e
                                   WHERE e.send_id = s.id AND e.type = 'open'),
                       'clicked', (SELECT count(DISTINCT e.recipient_id) FROM email_events e
                                    WHERE e.send_id = s.id AND e.type = 'click'),
                       'unsubscribed', (SELECT count(*) FROM email_events e
                                         WHERE e.send_id = s.id AND e.type = 'unsubscribe'))
                     FROM send_recipients r WHERE r.send_id = s.id),
        'jobId', s.job_id,
        'createdAt', rfc3339(s.created_at), 'updatedAt', rfc3339(s.updated_at));
COMMENT ON FUNCTION send_json(sends) IS 'API representation of a send, with live counts from send_recipients (held: email A/B recipients waiting for the winner) and email_events (opened and clicked: unique recipients).';

-- POST /api/campaigns/:id/sends with abTestId: snapshots every variant's email
-- item. NULL when the campaign is not the owner's; ACS04 when the test is not
-- one of the campaign's, ACS05 when it has ended, ACS06 when a variant is not
-- an email item, 23505 (sends_ab_test_key) when the test already has a send,
-- 23503 (sends_list_fkey) when the list is not the owner's.
CREATE FUNCTION send_create_ab(owner uuid, campaign uuid, test uuid, list uuid, scheduled timestamptz,
                               sender_name text, sender_email text, sender_reply_to text,
                               fraction numeric, after_seconds integer)
    RETURNS json
    LANGUAGE plpgsql
AS $$
DECLARE
    c campaigns;
    t ab_tests;
    snaps jsonb;
    control jsonb;
    s sends;
BEGIN
    SELECT * INTO c FROM campaigns WHERE id = campaign AND user_id = owner;
    IF NOT FOUND THEN
        RETURN NULL;
    END IF;
    SELECT * INTO t FROM ab_tests WHERE id = test AND user_id = owner AND campaign_id = campaign;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'no such A/B test in this campaign' USING ERRCODE = 'ACS04';
    END IF;
    IF t.status NOT IN ('draft', 'running') THEN
        RAISE EXCEPTION 'the A/B test is %', t.status USING ERRCODE = 'ACS05';
    END IF;
    SELECT jsonb_object_agg(v->>'key', item) FILTER (WHERE item IS NOT NULL AND item->>'contentType' = 'email'),
           count(item) FILTER (WHERE item->>'contentType' = 'email')
      INTO snaps
      FROM jsonb_array_elements(t.variants) v
      LEFT JOIN LATERAL (SELECT e AS item FROM jsonb_array_elements(c.content) e
                          WHERE e->>'id' = v->>'contentId') i ON true;
    IF snaps IS NULL OR (SELECT count(*) FROM jsonb_object_keys(snaps)) <> jsonb_array_length(t.variants) THEN
        RAISE EXCEPTION 'every variant of the A/B test must be an email item of the campaign' USING ERRCODE = 'ACS06';
    END IF;
    control := snaps->'A';
    INSERT INTO sends (user_id, campaign_id, content_id, list_id, snapshot, snapshot_hash, from_name, from_email,
                       reply_to, scheduled_at, ab_test_id, test_fraction, winner_after, variant_snapshots)
    VALUES (owner, campaign, (control->>'id')::uuid, list, control,
            encode(sha256(convert_to(snaps::text, 'UTF8')), 'hex'),
            sender_name, sender_email, sender_reply_to, scheduled, test, fraction, after_seconds, snaps)
    RETURNING * INTO s;
    RETURN send_json(s);
END
$$;
COMMENT ON FUNCTION send_create_ab(uuid, uuid, uuid, uuid, timestamptz, text, text, text, numeric, integer) IS 'POST /api/campaigns/:id/sends with abTestId: snapshots every variant''s email item (snapshot_hash covers them all) into a new pending_approval A/B send.';

-- Approves a pending send (0013's rules). An A/B send also starts its test
-- (when a draft), puts each subscribed contact in the test part (ab_bucket <
-- test_fraction: the variant ab_pick_variant gives) or holds it for the
-- winner, and queues the ab-send-winner job for winner_due_at. Raises ACS05
-- when the test has ended meanwhile.
CREATE OR REPLACE FUNCTION send_approve(owner uuid, send uuid) RETURNS json
    LANGUAGE plpgsql
AS $$
DECLARE
    s sends;
    t ab_tests;
    job uuid;
    start timestamptz;
BEGIN
    SELECT * INTO s FROM sends WHERE id = send AND user_id = owner FOR UPDATE;
    IF NOT FOUND THEN
        RETURN NULL;
    END IF;
    IF s.status <> 'pending_approval' THEN
        RAISE EXCEPTION 'the send is %, not pending_approval', s.status USING ERRCODE = '55000';
    END IF;
    IF s.list_id IS NULL THEN
        RAISE EXCEPTION 'the list was deleted' USING ERRCODE = 'ACS03';
    END IF;
    start := greatest(coalesce(s.scheduled_at, now()), now());
    IF s.ab_test_id IS NULL THEN
        INSERT INTO send_recipients (send_id, contact_id, email, status, last_error)
        SELECT s.id, c.id, c.email,
               CASE WHEN c.status = 'subscribed' THEN 'queued' ELSE 'suppressed' END,
               CASE WHEN c.status = 'subscribed' THEN NULL ELSE 'contact is ' || c.status END
          FROM list_members m JOIN contacts c ON c.id = m.contact_id AND c.user_id = m.user_id
         WHERE m.list_id = s.list_id AND m.user_id = owner;
    ELSE
        SELECT * INTO t FROM ab_tests WHERE id = s.ab_test_id FOR UPDATE;
        IF t.status NOT IN ('draft', 'running') THEN
            RAISE EXCEPTION 'the A/B test is %', t.status USING ERRCODE = 'ACS05';
        END IF;
        IF t.status = 'draft' THEN
            UPDATE ab_tests SET status = 'running', started_at = now(), updated_at = now() WHERE id = t.id;
        END IF;
        INSERT INTO send_recipients (send_id, contact_id, email, status, last_error, variant, content_id)
        SELECT s.id, c.id, c.email,
               CASE WHEN c.status <> 'subscribed' THEN 'suppressed' WHEN p.v IS NULL THEN 'held' ELSE 'queued' END,
               CASE WHEN c.status = 'subscribed' THEN NULL ELSE 'contact is ' || c.status END,
               p.v->>'key', (p.v->>'contentId')::uuid
          FROM list_members m JOIN contacts c ON c.id = m.contact_id AND c.user_id = m.user_id
          CROSS JOIN LATERAL (SELECT ab_bucket(t.id, c.id) AS u) b
          CROSS JOIN LATERAL (SELECT CASE WHEN c.status = 'subscribed' AND b.u < s.test_fraction
                                          THEN ab_pick_variant(t.variants, b.u / s.test_fraction) END AS v) p
         WHERE m.list_id = s.list_id AND m.user_id = owner;
        INSERT INTO jobs (queue, kind, payload, user_id, campaign_id, run_at)
        VALUES ('analytics-processing', 'ab-send-winner', jsonb_build_object('sendId', s.id), owner, s.campaign_id,
                start + make_interval(secs => s.winner_after));
    END IF;
    INSERT INTO jobs (queue, kind, payload, user_id, campaign_id, run_at)
    VALUES ('email-sending', 'deliver-send', jsonb_build_object('sendId', s.id), owner, s.campaign_id, start)
    RETURNING id INTO job;
    UPDATE sends
       SET status = CASE WHEN s.scheduled_at > now() THEN 'scheduled' ELSE 'approved' END,
           approved_at = now(), approved_by = owner, job_id = job, updated_at = now(),
           winner_due_at = CASE WHEN s.ab_test_id IS NOT NULL THEN start + make_interval(secs => s.winner_after) END
     WHERE id = s.id
    RETURNING * INTO s;
    RETURN send_json(s);
END
$$;
COMMENT ON FUNCTION send_approve(uuid, uuid) IS 'POST /api/sends/:id/approve: the approval gate (who, when, the snapshot''s hash stays as approved), the recipients (an A/B send: the test part by variant, the rest held), and the email-sending job (an A/B send: and the ab-send-winner job).';

-- When a test ends, the held recipients of its send get the winner (the
-- control, A, when it completed with no difference or was stopped), and a
-- sending send gets a delivery job for them (an approved, scheduled or paused
-- one delivers them with the job it has or gets on resume).
CREATE FUNCTION ab_tests_release() RETURNS trigger
    LANGUAGE plpgsql
AS $$
DECLARE
    v jsonb := (SELECT e FROM jsonb_array_elements(NEW.variants) e WHERE e->>'key' = coalesce(NEW.winner, 'A'));
BEGIN
    WITH released AS (
        UPDATE send_recipients r
           SET status = 'queued', variant = v->>'key', content_id = (v->>'contentId')::uuid, next_attempt_at = now()
          FROM sends s
         WHERE s.ab_test_id = NEW.id AND r.send_id = s.id AND r.status = 'held'
           AND s.status IN ('approved', 'scheduled', 'sending', 'paused')
        RETURNING s.id, s.status, s.user_id, s.campaign_id
    )
    INSERT INTO jobs (queue, kind, payload, user_id, campaign_id)
    SELECT DISTINCT 'email-sending', 'deliver-send', jsonb_build_object('sendId', id), user_id, campaign_id
      FROM released WHERE status = 'sending';
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION ab_tests_release() IS 'AFTER UPDATE OF status on ab_tests, when a test ends: its send''s held recipients get the winner (A without one) and, when the send is sending, a deliver-send job.';
CREATE TRIGGER ab_tests_release AFTER UPDATE OF status ON ab_tests
    FOR EACH ROW WHEN (NEW.status IN ('completed', 'stopped') AND OLD.status = 'running')
    EXECUTE FUNCTION ab_tests_release();

REVOKE EXECUTE ON FUNCTION ab_test_move(uuid, uuid, text), ab_test_promote(uuid, uuid, text, text),
                           ab_test_complete(uuid, text, text),
                           send_create_ab(uuid, uuid, uuid, uuid, timestamptz, text, text, text, numeric, integer)
    FROM PUBLIC;
GRANT EXECUTE ON FUNCTION ab_test_move(uuid, uuid, text), ab_test_promote(uuid, uuid, text, text),
                          send_create_ab(uuid, uuid, uuid, uuid, timestamptz, text, text, text, numeric, integer)
    TO adcraft_api;
GRANT EXECUTE ON FUNCTION ab_test_complete(uuid, text, text) TO adcraft_worker;

GRANT SELECT, INSERT, UPDATE, DELETE ON ab_tests TO adcraft_api;
GRANT SELECT, UPDATE ON ab_tests TO adcraft_worker;
GRANT SELECT ON ab_tests, ab_test_status_transitions TO adcraft_analyst;
GRANT SELECT ON ab_test_status_transitions TO adcraft_api, adcraft_worker;
GRANT UPDATE ON send_recipients TO adcraft_api;            -- ab_tests_release() runs as the caller (a manual winner)

-- The DBA view counts both kinds of abTests entries, as the API's abTestCount does.
CREATE OR REPLACE VIEW campaign_summary AS
SELECT c.id                                   AS campaign_id,
       c.user_id,
       u.email                                AS owner_email,
       c.name,
       c.objective,
       c.status,
       c.budget,
       c.currency,
       c.start_date,
       c.end_date,
       p.name                                 AS persona_name,
       jsonb_array_length(c.content)          AS content_items,
       (SELECT round(avg((i->>'qualityScore')::numeric), 1)
          FROM jsonb_array_elements(c.content) i) AS average_quality_score,
       jsonb_array_length(c.ab_tests) + (SELECT count(*) FROM ab_tests t WHERE t.campaign_id = c.id)::int AS ab_tests,
       c.created_at,
       c.updated_at
  FROM campaigns c
  JOIN users u ON u.id = c.user_id
  LEFT JOIN personas p ON p.id = c.persona_id;
COMMENT ON COLUMN campaign_summary.ab_tests IS 'Number of A/B tests: ab_tests rows plus entries written to campaigns.ab_tests before migration 0016.';

-- Email A/B reaches analytics: a delivery (impression) and an open or click
-- count against the content item and variant the recipient was given
-- (send_recipients.content_id, .variant), not the send's control item.
CREATE OR REPLACE FUNCTION analytics_email_delivered() RETURNS trigger
    LANGUAGE plpgsql
AS $$
BEGIN
    WITH ev AS (
        SELECT s.user_id, s.campaign_id, coalesce(NEW.content_id, s.content_id) AS content_id, NEW.variant,
               coalesce(s.variant_snapshots->NEW.variant, s.snapshot)->>'platform' AS platform,
               NEW.contact_id, coalesce(NEW.sent_at, now()) AS occurred_at
          FROM sends s WHERE s.id = NEW.send_id
    ), stored AS (
        INSERT INTO analytics_events (user_id, campaign_id, content_id, variant, platform, contact_id, type, occurred_at,
                                      source, event_id)
        SELECT user_id, campaign_id, content_id, variant, platform, contact_id, 'impression', occurred_at, 'email',
               'sent:' || NEW.id
          FROM ev
    )
    INSERT INTO analytics_pending (user_id, campaign_id, content_id, variant, platform, contact_id, type, quantity,
                                   occurred_at)
    SELECT user_id, campaign_id, content_id, variant, platform, contact_id, 'impression', 1, occurred_at FROM ev;
    PERFORM analytics_rollup_request();
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION analytics_email_delivered() IS 'send_recipients becoming sent: an impression (source email) of the content item and A/B variant the recipient was given (the send''s item without one).';

CREATE OR REPLACE FUNCTION analytics_email_event() RETURNS trigger
    LANGUAGE plpgsql
AS $$
BEGIN
    WITH ev AS (
        SELECT s.user_id, s.campaign_id, coalesce(r.content_id, s.content_id) AS content_id, r.variant,
               coalesce(s.variant_snapshots->r.variant, s.snapshot)->>'platform' AS platform
          FROM sends s LEFT JOIN send_recipients r ON r.id = NEW.recipient_id
         WHERE s.id = NEW.send_id
    ), stored AS (
        INSERT INTO analytics_events (user_id, campaign_id, content_id, variant, platform, contact_id, type, occurred_at,
                                      source, event_id)
        SELECT user_id, campaign_id, content_id, variant, platform, NEW.contact_id, NEW.type, NEW.occurred_at, 'email',
               'email:' || NEW.id
          FROM ev
    )
    INSERT INTO analytics_pending (user_id, campaign_id, content_id, variant, platform, contact_id, type, quantity,
                                   occurred_at)
    SELECT user_id, campaign_id, content_id, variant, platform, NEW.contact_id, NEW.type, 1, NEW.occurred_at FROM ev;
    PERFORM analytics_rollup_request();
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION analytics_email_event() IS 'An email open or click (email_events): the same event in analytics_events (source email), with the contact, against the content item and A/B variant its recipient was given.';
