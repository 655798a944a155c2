-- 0020_analytics_campaign_hourly: one row per campaign and UTC hour.
--
-- A campaign report without groupBy in a time zone other than UTC builds its
-- local days from hourly rollups; analytics_hourly holds a row per (hour,
-- content item, variant, platform), about 14,000 rows a month for a campaign
-- of 10 items and 2 variants, and summing them cost ~20 ms per report
-- (bench/analytics.sh). This table holds the same hours summed per campaign
-- (about 720 rows a month). Statement triggers on analytics_hourly keep it
-- equal to the sum of analytics_hourly's rows, in the rollup's transaction:
-- whatever writes analytics_hourly (analytics_rollup() today) need not know.

CREATE TABLE analytics_campaign_hourly (
    campaign_id    uuid        NOT NULL,
    bucket         timestamptz NOT NULL CHECK (date_trunc('hour', bucket, 'UTC') = bucket),
    user_id        uuid        NOT NULL,
    impressions    bigint      NOT NULL DEFAULT 0,
    opens          bigint      NOT NULL DEFAULT 0,
    unique_opens   bigint      NOT NULL DEFAULT 0,
    clicks         bigint      NOT NULL DEFAULT 0,
    unique_clicks  bigint      NOT NULL DEFAULT 0,
    conversions    bigint      NOT NULL DEFAULT 0,
    spend          numeric     NOT NULL DEFAULT 0,
    revenue        numeric     NOT NULL DEFAULT 0,
    PRIMARY KEY (campaign_id, bucket),
    CONSTRAINT analytics_campaign_hourly_campaign_fkey FOREIGN KEY (user_id, campaign_id)
        REFERENCES campaigns (user_id, id) ON DELETE CASCADE
) WITH (fillfactor = 70, autovacuum_vacuum_scale_factor = 0.02);  -- updated in place by every rollup
COMMENT ON TABLE analytics_campaign_hourly IS 'analytics_hourly summed per (campaign, UTC hour), kept equal to it by the statement triggers analytics_hourly_campaign_insert/_update; reports without groupBy read it for days in a time zone other than UTC.';
COMMENT ON COLUMN analytics_campaign_hourly.campaign_id IS 'The campaign.';
COMMENT ON COLUMN analytics_campaign_hourly.bucket IS 'Start of the UTC hour.';
COMMENT ON COLUMN analytics_campaign_hourly.user_id IS 'Owner (the campaign''s).';
COMMENT ON COLUMN analytics_campaign_hourly.impressions IS 'Sum of analytics_hourly.impressions over the hour''s rows of the campaign.';
COMMENT ON COLUMN analytics_campaign_hourly.opens IS 'Sum of analytics_hourly.opens.';
COMMENT ON COLUMN analytics_campaign_hourly.unique_opens IS 'Sum of analytics_hourly.unique_opens.';
COMMENT ON COLUMN analytics_campaign_hourly.clicks IS 'Sum of analytics_hourly.clicks.';
COMMENT ON COLUMN analytics_campaign_hourly.unique_clicks IS 'Sum of analytics_hourly.unique_clicks.';
COMMENT ON COLUMN analytics_campaign_hourly.conversions IS 'Sum of analytics_hourly.conversions.';
COMMENT ON COLUMN analytics_campaign_hourly.spend IS 'Sum of analytics_hourly.spend.';
COMMENT ON COLUMN analytics_campaign_hourly.revenue IS 'Sum of analytics_hourly.revenue.';

INSERT INTO analytics_campaign_hourly (campaign_id, bucket, user_id, impressions, opens, unique_opens, clicks,
                                       unique_clicks, conversions, spend, revenue)
SELECT campaign_id, bucket, user_id, sum(impressions), sum(opens), sum(unique_opens), sum(clicks),
       sum(unique_clicks), sum(conversions), sum(spend), sum(revenue)
  FROM analytics_hourly GROUP BY campaign_id, bucket, user_id;

-- Adds what a statement added to analytics_hourly: its new rows, less its
-- old ones for an UPDATE (the key columns never change, so per (campaign,
-- hour) the difference is the change). An INSERT trigger has no old_rows
-- relation, so the source is chosen by TG_OP and run with EXECUTE (which sees
-- the transition tables too).
CREATE FUNCTION analytics_hourly_to_campaign() RETURNS trigger
    LANGUAGE plpgsql
AS $$
DECLARE
    cols constant text := 'campaign_id, bucket, user_id, impressions, opens, unique_opens, clicks, unique_clicks,'
                          ' conversions, spend, revenue';
    source text := 'SELECT ' || cols || ' FROM new_rows';
BEGIN
    IF TG_OP = 'UPDATE' THEN
        source := source || ' UNION ALL SELECT campaign_id, bucket, user_id, -impressions, -opens, -unique_opens,'
                         || ' -clicks, -unique_clicks, -conversions, -spend, -revenue FROM old_rows';
    END IF;
    EXECUTE format($q$
        INSERT INTO analytics_campaign_hourly AS t (%s)
        SELECT campaign_id, bucket, user_id, sum(impressions), sum(opens), sum(unique_opens), sum(clicks),
               sum(unique_clicks), sum(conversions), sum(spend), sum(revenue)
          FROM (%s) AS change
         GROUP BY campaign_id, bucket, user_id
        ON CONFLICT (campaign_id, bucket) DO UPDATE
           SET impressions = t.impressions + excluded.impressions, opens = t.opens + excluded.opens,
               unique_opens = t.unique_opens + excluded.unique_opens, clicks = t.clicks + excluded.clicks,
               unique_clicks = t.unique_clicks + excluded.unique_clicks,
               conversions = t.conversions + excluded.conversions, spend = t.spend + excluded.spend,
               revenue = t.revenue + excluded.revenue$q$, cols, source);
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION analytics_hourly_to_campaign() IS 'Statement trigger function of analytics_hourly: adds the rows a statement inserted (and, for an UPDATE, subtracts their old values) to analytics_campaign_hourly.';

CREATE TRIGGER analytics_hourly_campaign_insert AFTER INSERT ON analytics_hourly
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION analytics_hourly_to_campaign();
CREATE TRIGGER analytics_hourly_campaign_update AFTER UPDATE ON analytics_hourly
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION analytics_hourly_to_campaign();

GRANT SELECT ON analytics_campaign_hourly TO adcraft_api, adcraft_analyst;
GRANT SELECT, INSERT, UPDATE ON analytics_campaign_hourly TO adcraft_worker;

-- The API's statements are short OLTP queries; a report's planner estimate
-- (generate_series guesses 1,000 rows) can pass jit_above_cost, and compiling
-- then costs 50-100 ms, more than the query. The API never JIT-compiles.
ALTER ROLE adcraft_api SET jit = off;
