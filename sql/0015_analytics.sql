-- 0015_analytics: events in, rollups out (issue #12 section 1).
--
-- Raw events (analytics_events) are partitioned by month on occurred_at; the
-- worker creates partitions ahead (analytics_partitions_ensure) at start-up
-- and daily, and a DBA detaches old months (docs/dba.md). Every accepted event
-- is also written to analytics_pending; the rollup job (analytics-processing
-- queue) moves pending rows into analytics_hourly and analytics_daily in the
-- transaction that deletes them, so a re-run finds nothing left to count and a
-- crash counts nothing twice. Reports read the rollups, never raw events.
--
-- Idempotency: a client's eventId is deduplicated through analytics_event_keys
-- (user_id, event_id), a small unpartitioned table: a unique index on the
-- partitioned table would have to include occurred_at, so the same eventId
-- sent again with another time would slip through. Keys older than the
-- deduplication window (90 days) are pruned by the partition maintenance job.

------------------------------------------------------------------------------
-- raw events
------------------------------------------------------------------------------
CREATE TABLE analytics_events (
    user_id      uuid        NOT NULL,
    campaign_id  uuid        NOT NULL,
    content_id   uuid,
    variant      text        CHECK (length(variant) BETWEEN 1 AND 64),
    platform     text        CHECK (length(platform) BETWEEN 1 AND 64),
    contact_id   uuid,
    type         text        NOT NULL CHECK (type IN ('impression', 'open', 'click', 'conversion', 'spend')),
    quantity     bigint      NOT NULL DEFAULT 1 CHECK (quantity >= 1),
    value        numeric     CHECK (value >= 0 AND value < 1e12),
    occurred_at  timestamptz NOT NULL,
    source       text        NOT NULL CHECK (source IN ('api', 'email', 'import')),
    event_id     text        CHECK (length(event_id) BETWEEN 1 AND 200),
    received_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT analytics_events_value CHECK (value IS NULL OR type IN ('conversion', 'spend')),
    CONSTRAINT analytics_events_campaign_fkey FOREIGN KEY (user_id, campaign_id) REFERENCES campaigns (user_id, id)
        ON DELETE CASCADE
) PARTITION BY RANGE (occurred_at);
-- a campaign's events over time (recounts, the cascade of a campaign's deletion)
CREATE INDEX analytics_events_campaign_idx ON analytics_events (campaign_id, occurred_at);

COMMENT ON TABLE analytics_events IS 'Raw analytics events (API, email opens/clicks/deliveries, ad-platform imports), partitioned by month on occurred_at (partitions analytics_events_yYYYYmMM, made ahead by analytics_partitions_ensure()). Append-only; reports read analytics_hourly/analytics_daily instead.';
COMMENT ON COLUMN analytics_events.user_id IS 'Owner of the campaign.';
COMMENT ON COLUMN analytics_events.campaign_id IS 'The campaign (same owner).';
COMMENT ON COLUMN analytics_events.content_id IS 'The content item (campaigns.content[].id) or NULL for a campaign-level event.';
COMMENT ON COLUMN analytics_events.variant IS 'A/B variant key the event belongs to, if any.';
COMMENT ON COLUMN analytics_events.platform IS 'The content item''s platform when the event was received (NULL without an item).';
COMMENT ON COLUMN analytics_events.contact_id IS 'The contact (email events only): unique opens and clicks are counted per contact.';
COMMENT ON COLUMN analytics_events.type IS 'impression, open, click, conversion or spend.';
COMMENT ON COLUMN analytics_events.quantity IS 'How many events this row stands for: 1, except imported report rows (e.g. 5000 impressions of one day).';
COMMENT ON COLUMN analytics_events.value IS 'conversion: revenue; spend: cost (in the campaign''s currency); NULL for other types.';
COMMENT ON COLUMN analytics_events.occurred_at IS 'When it happened (the partition key).';
COMMENT ON COLUMN analytics_events.source IS 'api (POST /api/analytics/events), email (deliveries, opens, clicks) or import (POST /api/analytics/import).';
COMMENT ON COLUMN analytics_events.event_id IS 'The client''s eventId (api), email:<email_events.id> or sent:<send_recipients.id> (email), or import:<day>:<contentId>:<type> (import).';
COMMENT ON COLUMN analytics_events.received_at IS 'When adcraft stored it.';

CREATE TABLE analytics_event_keys (
    user_id      uuid        NOT NULL REFERENCES users ON DELETE CASCADE,
    event_id     text        NOT NULL CHECK (length(event_id) BETWEEN 1 AND 200),
    received_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, event_id)
);
CREATE INDEX analytics_event_keys_received_idx ON analytics_event_keys (received_at);
COMMENT ON TABLE analytics_event_keys IS 'Idempotency keys of stored events (API eventIds and import rows): an event whose key is here is a duplicate, counted and not stored. Kept 90 days (pruned by the analytics-partitions job).';
COMMENT ON COLUMN analytics_event_keys.user_id IS 'Owner: keys are per owner.';
COMMENT ON COLUMN analytics_event_keys.event_id IS 'The event''s key (analytics_events.event_id).';
COMMENT ON COLUMN analytics_event_keys.received_at IS 'When the first event with this key was stored.';

------------------------------------------------------------------------------
-- rollups (interface A of the session 9 brief: column names are a contract)
------------------------------------------------------------------------------
CREATE TABLE analytics_pending (
    user_id      uuid        NOT NULL,
    campaign_id  uuid        NOT NULL,
    content_id   uuid,
    variant      text,
    platform     text,
    contact_id   uuid,
    type         text        NOT NULL,
    quantity     bigint      NOT NULL,
    value        numeric,
    occurred_at  timestamptz NOT NULL
);
COMMENT ON TABLE analytics_pending IS 'Events stored but not yet in the rollups: written with each event, deleted by analytics_rollup() in the transaction that adds them to analytics_hourly/analytics_daily. No foreign key (it would double the cost of ingestion): rows of a campaign deleted meanwhile are dropped by the rollup.';
COMMENT ON COLUMN analytics_pending.user_id IS 'As analytics_events.user_id.';
COMMENT ON COLUMN analytics_pending.campaign_id IS 'As analytics_events.campaign_id.';
COMMENT ON COLUMN analytics_pending.content_id IS 'As analytics_events.content_id.';
COMMENT ON COLUMN analytics_pending.variant IS 'As analytics_events.variant.';
COMMENT ON COLUMN analytics_pending.platform IS 'As analytics_events.platform.';
COMMENT ON COLUMN analytics_pending.contact_id IS 'As analytics_events.contact_id.';
COMMENT ON COLUMN analytics_pending.type IS 'As analytics_events.type.';
COMMENT ON COLUMN analytics_pending.quantity IS 'As analytics_events.quantity.';
COMMENT ON COLUMN analytics_pending.value IS 'As analytics_events.value.';
COMMENT ON COLUMN analytics_pending.occurred_at IS 'As analytics_events.occurred_at.';

CREATE TABLE analytics_hourly (
    bucket         timestamptz NOT NULL CHECK (date_trunc('hour', bucket, 'UTC') = bucket),
    user_id        uuid        NOT NULL,
    campaign_id    uuid        NOT NULL,
    content_id     uuid,
    variant        text,
    platform       text,
    impressions    bigint      NOT NULL DEFAULT 0,
    opens          bigint      NOT NULL DEFAULT 0,
    unique_opens   bigint      NOT NULL DEFAULT 0,
    clicks         bigint      NOT NULL DEFAULT 0,
    unique_clicks  bigint      NOT NULL DEFAULT 0,
    conversions    bigint      NOT NULL DEFAULT 0,
    spend          numeric     NOT NULL DEFAULT 0,
    revenue        numeric     NOT NULL DEFAULT 0,
    updated_at     timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT analytics_hourly_key UNIQUE NULLS NOT DISTINCT (bucket, campaign_id, content_id, variant, platform),
    CONSTRAINT analytics_hourly_campaign_fkey FOREIGN KEY (user_id, campaign_id) REFERENCES campaigns (user_id, id)
        ON DELETE CASCADE
) WITH (fillfactor = 70, autovacuum_vacuum_scale_factor = 0.02);  -- rollups update rows in place: room for HOT updates
CREATE INDEX analytics_hourly_campaign_idx ON analytics_hourly (campaign_id, bucket);
CREATE INDEX analytics_hourly_user_idx ON analytics_hourly (user_id, bucket);

CREATE TABLE analytics_daily (LIKE analytics_hourly INCLUDING DEFAULTS,
    CONSTRAINT analytics_daily_bucket CHECK (date_trunc('day', bucket, 'UTC') = bucket),
    CONSTRAINT analytics_daily_key UNIQUE NULLS NOT DISTINCT (bucket, campaign_id, content_id, variant, platform),
    CONSTRAINT analytics_daily_campaign_fkey FOREIGN KEY (user_id, campaign_id) REFERENCES campaigns (user_id, id)
        ON DELETE CASCADE
) WITH (fillfactor = 70, autovacuum_vacuum_scale_factor = 0.02);
CREATE INDEX analytics_daily_campaign_idx ON analytics_daily (campaign_id, bucket);
CREATE INDEX analytics_daily_user_idx ON analytics_daily (user_id, bucket);

DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['hourly', 'daily'] LOOP
        EXECUTE format('COMMENT ON TABLE %I IS %L', 'analytics_' || t,
            format('Rollup of analytics_events per %s (UTC) and (campaign, content item, variant, platform), kept current by the analytics-processing queue (analytics_rollup()). Reports read these, never raw events.',
                   CASE t WHEN 'hourly' THEN 'hour' ELSE 'day' END));
        EXECUTE format($c$
            COMMENT ON COLUMN %1$I.bucket IS %2$L;
            COMMENT ON COLUMN %1$I.user_id IS 'Owner of the campaign.';
            COMMENT ON COLUMN %1$I.campaign_id IS 'The campaign.';
            COMMENT ON COLUMN %1$I.content_id IS 'The content item; NULL for campaign-level events.';
            COMMENT ON COLUMN %1$I.variant IS 'A/B variant key of the events, NULL if none.';
            COMMENT ON COLUMN %1$I.platform IS 'The content item''s platform at ingest, NULL if none.';
            COMMENT ON COLUMN %1$I.impressions IS 'Impressions (for email: deliveries).';
            COMMENT ON COLUMN %1$I.opens IS 'Opens, every one.';
            COMMENT ON COLUMN %1$I.unique_opens IS 'First opens per (campaign, content item, contact), counted in the bucket of the first; opens without a contact are each unique.';
            COMMENT ON COLUMN %1$I.clicks IS 'Clicks, every one.';
            COMMENT ON COLUMN %1$I.unique_clicks IS 'First clicks per (campaign, content item, contact), as unique_opens.';
            COMMENT ON COLUMN %1$I.conversions IS 'Conversions.';
            COMMENT ON COLUMN %1$I.spend IS 'Sum of the value of spend events (cost).';
            COMMENT ON COLUMN %1$I.revenue IS 'Sum of the value of conversion events.';
            COMMENT ON COLUMN %1$I.updated_at IS 'Last rollup that changed the row.';
            $c$, 'analytics_' || t,
            CASE t WHEN 'hourly' THEN 'UTC hour start.' ELSE 'UTC day start.' END);
    END LOOP;
END
$$;

-- unique opens and clicks: the first per (campaign, content item, contact, type)
CREATE TABLE analytics_uniques (
    campaign_id  uuid        NOT NULL,
    content_id   uuid,
    contact_id   uuid        NOT NULL,
    type         text        NOT NULL CHECK (type IN ('open', 'click')),
    user_id      uuid        NOT NULL,
    first_at     timestamptz NOT NULL,
    variant      text,
    platform     text,
    CONSTRAINT analytics_uniques_key UNIQUE NULLS NOT DISTINCT (campaign_id, content_id, contact_id, type),
    CONSTRAINT analytics_uniques_campaign_fkey FOREIGN KEY (user_id, campaign_id) REFERENCES campaigns (user_id, id)
        ON DELETE CASCADE
);
COMMENT ON TABLE analytics_uniques IS 'The first open and the first click of each contact per (campaign, content item): which rollup row holds its unique_opens/unique_clicks count. An earlier event rolled up later moves the count.';
COMMENT ON COLUMN analytics_uniques.campaign_id IS 'The campaign.';
COMMENT ON COLUMN analytics_uniques.content_id IS 'The content item (NULL: campaign-level).';
COMMENT ON COLUMN analytics_uniques.contact_id IS 'The contact.';
COMMENT ON COLUMN analytics_uniques.type IS 'open or click.';
COMMENT ON COLUMN analytics_uniques.user_id IS 'Owner.';
COMMENT ON COLUMN analytics_uniques.first_at IS 'occurred_at of the first such event: its hour and day buckets hold the unique count.';
COMMENT ON COLUMN analytics_uniques.variant IS 'variant of that first event (part of the rollup row key).';
COMMENT ON COLUMN analytics_uniques.platform IS 'platform of that first event (part of the rollup row key).';

-- ad-platform CSV reports waiting for their import job
CREATE TABLE analytics_imports (
    id          uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id     uuid        NOT NULL REFERENCES users ON DELETE CASCADE,
    body        text        NOT NULL CHECK (octet_length(body) <= 20971520),
    created_at  timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE analytics_imports IS 'CSV reports of POST /api/analytics/import waiting for their import-analytics job (analytics-processing queue); the job deletes the row in the transaction that stores the events.';
COMMENT ON COLUMN analytics_imports.id IS 'Referenced by the job payload (importId).';
COMMENT ON COLUMN analytics_imports.user_id IS 'Owner of the upload.';
COMMENT ON COLUMN analytics_imports.body IS 'The CSV as uploaded (UTF-8, at most 20 MiB).';
COMMENT ON COLUMN analytics_imports.created_at IS 'Upload time.';

------------------------------------------------------------------------------
-- the rollup job: requested by ingestion, at most one waiting at a time
------------------------------------------------------------------------------
CREATE UNIQUE INDEX jobs_one_queued_rollup_idx ON jobs (queue, kind)
    WHERE queue = 'analytics-processing' AND kind = 'analytics-rollup' AND state = 'queued';

-- Makes sure a rollup job is queued (one second from now, so a burst of
-- batches is rolled up together). Cheap when one is already waiting.
-- (plpgsql, not sql: its plans are cached per session, and the delivery trigger
-- calls it once per message.)
CREATE FUNCTION analytics_rollup_request() RETURNS void
    LANGUAGE plpgsql VOLATILE
AS $$
BEGIN
    IF NOT EXISTS (SELECT FROM jobs WHERE queue = 'analytics-processing' AND kind = 'analytics-rollup'
                                      AND state = 'queued') THEN
        INSERT INTO jobs (queue, kind, run_at, max_attempts)
        VALUES ('analytics-processing', 'analytics-rollup', now() + interval '1 second', 20)
        ON CONFLICT (queue, kind) WHERE queue = 'analytics-processing' AND kind = 'analytics-rollup'
                                    AND state = 'queued' DO NOTHING;
    END IF;
END
$$;
COMMENT ON FUNCTION analytics_rollup_request() IS 'Queues an analytics-rollup job unless one is already queued; runs in the caller''s transaction.';

-- Rolls up to batch pending events into analytics_hourly and analytics_daily
-- and deletes them, in the caller's transaction. Rollups are serialized by a
-- transaction-scoped advisory lock, so two jobs never race on a unique count.
-- Returns the campaigns it touched (empty when nothing was pending).
CREATE FUNCTION analytics_rollup(batch integer) RETURNS uuid[]
    LANGUAGE plpgsql
AS $$
DECLARE
    touched uuid[];
BEGIN
    PERFORM pg_advisory_xact_lock(hashtext('adcraft.analytics_rollup'));
    WITH claimed AS (
        DELETE FROM analytics_pending p
         WHERE p.ctid = ANY (ARRAY(SELECT ctid FROM analytics_pending LIMIT batch))
        RETURNING p.*
    ), live AS (             -- a campaign deleted since: its events went with it
        SELECT c.* FROM claimed c WHERE EXISTS (SELECT FROM campaigns WHERE id = c.campaign_id)
    ), firsts AS (           -- each contact's earliest open/click in this batch
        SELECT DISTINCT ON (campaign_id, content_id, contact_id, type) *
          FROM live WHERE contact_id IS NOT NULL AND type IN ('open', 'click')
         ORDER BY campaign_id, content_id, contact_id, type, occurred_at
    ), prior AS (            -- what analytics_uniques said before this batch
        SELECT u.* FROM analytics_uniques u JOIN firsts f
            ON u.campaign_id = f.campaign_id AND u.content_id IS NOT DISTINCT FROM f.content_id
           AND u.contact_id = f.contact_id AND u.type = f.type
    ), moved AS (            -- new firsts, or earlier than the known first
        INSERT INTO analytics_uniques AS u (campaign_id, content_id, contact_id, type, user_id, first_at, variant,
                                            platform)
        SELECT campaign_id, content_id, contact_id, type, user_id, occurred_at, variant, platform FROM firsts
        ON CONFLICT (campaign_id, content_id, contact_id, type) DO UPDATE
           SET first_at = excluded.first_at, variant = excluded.variant, platform = excluded.platform
         WHERE excluded.first_at < u.first_at
        RETURNING u.campaign_id, u.content_id, u.contact_id, u.type
    ), deltas AS (
        SELECT date_trunc('hour', occurred_at, 'UTC') AS hour, user_id, campaign_id, content_id, variant, platform,
               sum(quantity) FILTER (WHERE type = 'impression') AS impressions,
               sum(quantity) FILTER (WHERE type = 'open') AS opens,
               sum(quantity) FILTER (WHERE type = 'open' AND contact_id IS NULL) AS unique_opens,
               sum(quantity) FILTER (WHERE type = 'click') AS clicks,
               sum(quantity) FILTER (WHERE type = 'click' AND contact_id IS NULL) AS unique_clicks,
               sum(quantity) FILTER (WHERE type = 'conversion') AS conversions,
               sum(value) FILTER (WHERE type = 'spend') AS spend,
               sum(value) FILTER (WHERE type = 'conversion') AS revenue
          FROM live GROUP BY 1, 2, 3, 4, 5, 6
        UNION ALL            -- +1 where a first now is
        SELECT date_trunc('hour', f.occurred_at, 'UTC'), f.user_id, f.campaign_id, f.content_id, f.variant, f.platform,
               0, 0, (f.type = 'open')::int, 0, (f.type = 'click')::int, 0, 0, 0
          FROM firsts f JOIN moved m
            ON m.campaign_id = f.campaign_id AND m.content_id IS NOT DISTINCT FROM f.content_id
           AND m.contact_id = f.contact_id AND m.type = f.type
        UNION ALL            -- -1 where it was
        SELECT date_trunc('hour', p.first_at, 'UTC'), p.user_id, p.campaign_id, p.content_id, p.variant, p.platform,
               0, 0, -(p.type = 'open')::int, 0, -(p.type = 'click')::int, 0, 0, 0
          FROM prior p JOIN moved m
            ON m.campaign_id = p.campaign_id AND m.content_id IS NOT DISTINCT FROM p.content_id
           AND m.contact_id = p.contact_id AND m.type = p.type
    ), hourly AS (
        INSERT INTO analytics_hourly AS h (bucket, user_id, campaign_id, content_id, variant, platform, impressions,
                                           opens, unique_opens, clicks, unique_clicks, conversions, spend, revenue)
        SELECT hour, user_id, campaign_id, content_id, variant, platform,
               coalesce(sum(impressions), 0), coalesce(sum(opens), 0), coalesce(sum(unique_opens), 0),
               coalesce(sum(clicks), 0), coalesce(sum(unique_clicks), 0), coalesce(sum(conversions), 0),
               coalesce(sum(spend), 0), coalesce(sum(revenue), 0)
          FROM deltas GROUP BY 1, 2, 3, 4, 5, 6
        ON CONFLICT (bucket, campaign_id, content_id, variant, platform) DO UPDATE
           SET impressions = h.impressions + excluded.impressions, opens = h.opens + excluded.opens,
               unique_opens = h.unique_opens + excluded.unique_opens, clicks = h.clicks + excluded.clicks,
               unique_clicks = h.unique_clicks + excluded.unique_clicks,
               conversions = h.conversions + excluded.conversions, spend = h.spend + excluded.spend,
               revenue = h.revenue + excluded.revenue, updated_at = now()
    ), daily AS (
        INSERT INTO analytics_daily AS d (bucket, user_id, campaign_id, content_id, variant, platform, impressions,
                                          opens, unique_opens, clicks, unique_clicks, conversions, spend, revenue)
        SELECT date_trunc('day', hour, 'UTC'), user_id, campaign_id, content_id, variant, platform,
               coalesce(sum(impressions), 0), coalesce(sum(opens), 0), coalesce(sum(unique_opens), 0),
               coalesce(sum(clicks), 0), coalesce(sum(unique_clicks), 0), coalesce(sum(conversions), 0),
               coalesce(sum(spend), 0), coalesce(sum(revenue), 0)
          FROM deltas GROUP BY 1, 2, 3, 4, 5, 6
        ON CONFLICT (bucket, campaign_id, content_id, variant, platform) DO UPDATE
           SET impressions = d.impressions + excluded.impressions, opens = d.opens + excluded.opens,
               unique_opens = d.unique_opens + excluded.unique_opens, clicks = d.clicks + excluded.clicks,
               unique_clicks = d.unique_clicks + excluded.unique_clicks,
               conversions = d.conversions + excluded.conversions, spend = d.spend + excluded.spend,
               revenue = d.revenue + excluded.revenue, updated_at = now()
    )
    SELECT coalesce(array_agg(DISTINCT campaign_id), '{}') INTO touched FROM claimed;
    RETURN touched;
END
$$;
COMMENT ON FUNCTION analytics_rollup(integer) IS 'The analytics-rollup job: moves up to batch analytics_pending rows into analytics_hourly and analytics_daily (unique opens/clicks through analytics_uniques) in the caller''s transaction; returns the campaign ids it touched. Idempotent: what it counted is no longer pending.';

-- The figures of a report row (campaign report points and totals, overview,
-- dashboard), from summed rollup columns: counts, money, and the rates with
-- their definitions (docs/analytics.md). A rate over zero is null, never 0.
CREATE FUNCTION analytics_metrics(impressions numeric, opens numeric, unique_opens numeric, clicks numeric,
                                  unique_clicks numeric, conversions numeric, spend numeric, revenue numeric)
    RETURNS jsonb
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN jsonb_build_object(
        'impressions', coalesce(impressions, 0), 'opens', coalesce(opens, 0),
        'uniqueOpens', coalesce(unique_opens, 0), 'clicks', coalesce(clicks, 0),
        'uniqueClicks', coalesce(unique_clicks, 0), 'conversions', coalesce(conversions, 0),
        'spend', trim_scale(coalesce(spend, 0)), 'revenue', trim_scale(coalesce(revenue, 0)),
        'openRate', round(unique_opens / nullif(impressions, 0), 6),
        'ctr', round(unique_clicks / nullif(impressions, 0), 6),
        'conversionRate', round(conversions / nullif(unique_clicks, 0), 6),
        'cpc', round(spend / nullif(clicks, 0), 4),
        'cpa', round(spend / nullif(conversions, 0), 4),
        'roas', round(revenue / nullif(spend, 0), 4));
COMMENT ON FUNCTION analytics_metrics(numeric, numeric, numeric, numeric, numeric, numeric, numeric, numeric) IS 'A report row''s JSON: counts, spend, revenue and openRate = uniqueOpens/impressions, ctr = uniqueClicks/impressions, conversionRate = conversions/uniqueClicks, cpc = spend/clicks, cpa = spend/conversions, roas = revenue/spend (null when the divisor is 0).';

------------------------------------------------------------------------------
-- partitions
------------------------------------------------------------------------------
-- Creates the monthly partitions of analytics_events from the current month to
-- months_ahead months ahead (0..24), each with the parent's comments; months
-- already there (or detached by a DBA: only months before the current one are
-- ever detached) are left alone. Returns how many it created. SECURITY DEFINER:
-- only the owner of analytics_events may add partitions, and the worker that
-- calls this must not own tables; the names are made from dates, never input.
CREATE FUNCTION analytics_partitions_ensure(months_ahead integer, months_back integer DEFAULT 0) RETURNS integer
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, public
AS $$
DECLARE
    m date;
    part text;
    col record;
    made integer := 0;
BEGIN
    IF months_ahead NOT BETWEEN 0 AND 24 OR months_back NOT BETWEEN 0 AND 36 THEN
        RAISE EXCEPTION 'months_ahead must be 0..24 and months_back 0..36' USING ERRCODE = '22023';
    END IF;
    FOR m IN SELECT generate_series(date_trunc('month', now() AT TIME ZONE 'UTC') - make_interval(months => months_back),
                                    date_trunc('month', now() AT TIME ZONE 'UTC') + make_interval(months => months_ahead),
                                    interval '1 month')::date
    LOOP
        part := format('analytics_events_y%sm%s', to_char(m, 'YYYY'), to_char(m, 'MM'));
        CONTINUE WHEN to_regclass('public.' || part) IS NOT NULL;
        EXECUTE format('CREATE TABLE public.%I PARTITION OF public.analytics_events FOR VALUES FROM (%L) TO (%L)',
                       part, (m::timestamp AT TIME ZONE 'UTC'),
                       ((m + interval '1 month')::timestamp AT TIME ZONE 'UTC'));
        EXECUTE format('COMMENT ON TABLE public.%I IS %L', part,
                       format('analytics_events of %s (UTC); detach with ALTER TABLE analytics_events DETACH PARTITION %s CONCURRENTLY.',
                              to_char(m, 'YYYY-MM'), part));
        FOR col IN SELECT a.attname, col_description(a.attrelid, a.attnum) AS about
                     FROM pg_attribute a
                    WHERE a.attrelid = 'public.analytics_events'::regclass AND a.attnum > 0 AND NOT a.attisdropped
        LOOP
            EXECUTE format('COMMENT ON COLUMN public.%I.%I IS %L', part, col.attname, col.about);
        END LOOP;
        made := made + 1;
    END LOOP;
    RETURN made;
END
$$;
COMMENT ON FUNCTION analytics_partitions_ensure(integer, integer) IS 'Creates the missing monthly partitions of analytics_events from months_back months ago to months_ahead months ahead (called by the worker at start-up and daily); returns how many it made.';

-- The earliest time an event may have: the start of the oldest attached partition.
CREATE FUNCTION analytics_retained_from() RETURNS timestamptz
    LANGUAGE sql STABLE
AS $$
    SELECT min(make_timestamptz(substring(c.relname, 'y([0-9]{4})m[0-9]{2}$')::int,
                                substring(c.relname, 'y[0-9]{4}m([0-9]{2})$')::int, 1, 0, 0, 0, 'UTC'))
      FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
     WHERE i.inhparent = 'analytics_events'::regclass AND c.relname ~ '^analytics_events_y[0-9]{4}m[0-9]{2}$'
$$;
COMMENT ON FUNCTION analytics_retained_from() IS 'Start of the oldest attached analytics_events partition: events before it are refused (its month was detached, or never made).';

-- adcraft_claim_ownership() passes over analytics_events (its partition key is an
-- internal dependency on itself), and partitions belong to whoever creates them:
-- hand the parent and the function to adcraft_owner first, so that the
-- partitions made now and by the worker later are adcraft_owner's too.
ALTER TABLE analytics_events OWNER TO adcraft_owner;
ALTER FUNCTION analytics_partitions_ensure(integer, integer) OWNER TO adcraft_owner;

-- 24 months back (imports of old reports) and 3 ahead
SELECT analytics_partitions_ensure(3, 24);

------------------------------------------------------------------------------
-- email: deliveries are impressions, opens and clicks are opens and clicks
------------------------------------------------------------------------------
CREATE FUNCTION analytics_email_delivered() RETURNS trigger
    LANGUAGE plpgsql
AS $$
BEGIN
    WITH ev AS (
        SELECT s.user_id, s.campaign_id, s.content_id, s.snapshot->>'platform' AS platform,
               NEW.contact_id, coalesce(NEW.sent_at, now()) AS occurred_at
          FROM sends s WHERE s.id = NEW.send_id
    ), stored AS (
        INSERT INTO analytics_events (user_id, campaign_id, content_id, platform, contact_id, type, occurred_at, source,
                                      event_id)
        SELECT user_id, campaign_id, content_id, platform, contact_id, 'impression', occurred_at, 'email',
               'sent:' || NEW.id
          FROM ev
    )
    INSERT INTO analytics_pending (user_id, campaign_id, content_id, platform, contact_id, type, quantity, occurred_at)
    SELECT user_id, campaign_id, content_id, platform, contact_id, 'impression', 1, occurred_at FROM ev;
    PERFORM analytics_rollup_request();
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION analytics_email_delivered() IS 'send_recipients becoming sent: an impression (source email) of the send''s content item.';
CREATE TRIGGER send_recipients_analytics AFTER UPDATE OF status ON send_recipients
    FOR EACH ROW WHEN (NEW.status = 'sent' AND OLD.status IS DISTINCT FROM 'sent')
    EXECUTE FUNCTION analytics_email_delivered();

CREATE FUNCTION analytics_email_event() RETURNS trigger
    LANGUAGE plpgsql
AS $$
BEGIN
    WITH ev AS (
        SELECT s.user_id, s.campaign_id, s.content_id, s.snapshot->>'platform' AS platform
          FROM sends s WHERE s.id = NEW.send_id
    ), stored AS (
        INSERT INTO analytics_events (user_id, campaign_id, content_id, platform, contact_id, type, occurred_at, source,
                                      event_id)
        SELECT user_id, campaign_id, content_id, platform, NEW.contact_id, NEW.type, NEW.occurred_at, 'email',
               'email:' || NEW.id
          FROM ev
    )
    INSERT INTO analytics_pending (user_id, campaign_id, content_id, platform, contact_id, type, quantity, occurred_at)
    SELECT user_id, campaign_id, content_id, platform, NEW.contact_id, NEW.type, 1, NEW.occurred_at FROM ev;
    PERFORM analytics_rollup_request();
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION analytics_email_event() IS 'An email open or click (email_events): the same event in analytics_events (source email), with the contact.';
CREATE TRIGGER email_events_analytics AFTER INSERT ON email_events
    FOR EACH ROW WHEN (NEW.type IN ('open', 'click') AND NEW.send_id IS NOT NULL)
    EXECUTE FUNCTION analytics_email_event();

------------------------------------------------------------------------------
-- grants
------------------------------------------------------------------------------
REVOKE EXECUTE ON FUNCTION analytics_rollup(integer), analytics_partitions_ensure(integer, integer),
    analytics_rollup_request() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION analytics_rollup(integer), analytics_partitions_ensure(integer, integer) TO adcraft_worker;
GRANT EXECUTE ON FUNCTION analytics_rollup_request() TO adcraft_api, adcraft_worker;

-- adcraft-api: ingestion (events, keys, pending), email opens/clicks (the trigger), imports, reports
GRANT INSERT ON analytics_events, analytics_pending TO adcraft_api;
GRANT SELECT, INSERT ON analytics_event_keys, analytics_imports TO adcraft_api;
GRANT SELECT ON analytics_hourly, analytics_daily TO adcraft_api;
-- adcraft-worker: deliveries (the trigger), imports, rollups, key pruning
GRANT INSERT ON analytics_events TO adcraft_worker;
GRANT SELECT, INSERT, DELETE ON analytics_pending, analytics_event_keys TO adcraft_worker;
GRANT SELECT, DELETE ON analytics_imports TO adcraft_worker;
GRANT SELECT, INSERT, UPDATE ON analytics_hourly, analytics_daily, analytics_uniques TO adcraft_worker;
-- analysts read everything analytics
GRANT SELECT ON analytics_events, analytics_event_keys, analytics_pending, analytics_hourly, analytics_daily,
    analytics_uniques, analytics_imports TO adcraft_analyst;
