-- 0011_costs: what calls cost in money, and per-user daily and monthly limits in tokens and in money.
--
-- The cost of a call is computed by the program when its llm_usage row is
-- written, from the configured price of the model (llm_prices); limits come
-- from the configuration (the defaults) and from user_limits (per-user
-- overrides set with `adcraft user limits`). Reservations hold an estimate of
-- tokens and of money; llm_reserve() checks all four limits atomically.

------------------------------------------------------------------------------
-- llm_usage: cost and currency
------------------------------------------------------------------------------
ALTER TABLE llm_usage
    ADD COLUMN cost     numeric(20, 12) CHECK (cost >= 0),
    ADD COLUMN currency text            NOT NULL DEFAULT 'USD' CHECK (currency ~ '^[A-Z]{3}$');
COMMENT ON COLUMN llm_usage.cost IS 'What the call cost, in currency: prompt_tokens and completion_tokens at the configured price of model per million tokens (llm_prices) when the row was written; 0 for builtin calls; NULL when the model had no price (rows written before 0011 too).';
COMMENT ON COLUMN llm_usage.currency IS 'ISO 4217 code of cost (llm_currency when the row was written).';
COMMENT ON COLUMN llm_usage.completion_tokens IS 'Output tokens the provider reported (builtin: 0 since 0011; rows written before estimated at 4 characters a token).';

-- Builtin calls are free and use no tokens: rows from before this migration said otherwise.
UPDATE llm_usage SET prompt_tokens = 0, completion_tokens = 0, cost = 0 WHERE provider = 'builtin';

------------------------------------------------------------------------------
-- per-user overrides of the configured limits
------------------------------------------------------------------------------
CREATE TABLE user_limits (
    user_id        uuid            PRIMARY KEY REFERENCES users ON DELETE CASCADE,
    daily_tokens   bigint          CHECK (daily_tokens >= 0),
    monthly_tokens bigint          CHECK (monthly_tokens >= 0),
    daily_cost     numeric(20, 6)  CHECK (daily_cost >= 0),
    monthly_cost   numeric(20, 6)  CHECK (monthly_cost >= 0),
    updated_at     timestamptz     NOT NULL DEFAULT now()
);
COMMENT ON TABLE user_limits IS 'Per-user overrides of the configured generation limits (adcraft user limits). A NULL column means the configured default; 0 means no limit for this user.';
COMMENT ON COLUMN user_limits.user_id IS 'Whose limits these are.';
COMMENT ON COLUMN user_limits.daily_tokens IS 'External LLM tokens a UTC day (overrides daily_token_limit).';
COMMENT ON COLUMN user_limits.monthly_tokens IS 'External LLM tokens a UTC calendar month (overrides monthly_token_limit).';
COMMENT ON COLUMN user_limits.daily_cost IS 'Money a UTC day, in llm_currency (overrides daily_cost_limit).';
COMMENT ON COLUMN user_limits.monthly_cost IS 'Money a UTC calendar month, in llm_currency (overrides monthly_cost_limit).';
COMMENT ON COLUMN user_limits.updated_at IS 'When the override was last set.';

------------------------------------------------------------------------------
-- reservations hold money too
------------------------------------------------------------------------------
ALTER TABLE llm_reservations ADD COLUMN cost numeric(20, 12) NOT NULL DEFAULT 0 CHECK (cost >= 0);
COMMENT ON COLUMN llm_reservations.cost IS 'The money held: llm_token_estimate tokens at the higher of the model''s input and output prices.';
COMMENT ON TABLE llm_reservations IS 'Tokens and money held for LLM calls in flight: a call starts only if every limit of the user (daily and monthly, tokens and money) has room for today''s or this month''s usage plus every open reservation plus its own estimate; when it ends its llm_usage row replaces the reservation in one statement.';
COMMENT ON COLUMN llm_reservations.user_id IS 'Whose limits the reservation counts against.';

------------------------------------------------------------------------------
-- usage against the limits
------------------------------------------------------------------------------
-- One user's external usage and open reservations for the current UTC day and
-- month, with the effective limits: the user's override where set, else the
-- configured default (0: no limit).
CREATE FUNCTION llm_usage_status(owner uuid, daily_tokens_default bigint, monthly_tokens_default bigint,
                                 daily_cost_default numeric, monthly_cost_default numeric)
    RETURNS TABLE (tokens_today bigint, cost_today numeric, tokens_month bigint, cost_month numeric,
                   reserved_tokens bigint, reserved_cost numeric,
                   daily_token_limit bigint, monthly_token_limit bigint,
                   daily_cost_limit numeric, monthly_cost_limit numeric)
    LANGUAGE sql STABLE
AS $$
    WITH bounds AS (
        SELECT date_trunc('day', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' AS day_start,
               date_trunc('month', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' AS month_start
    ), used AS (
        SELECT coalesce(sum(u.prompt_tokens + u.completion_tokens) FILTER (WHERE u.created_at >= b.day_start), 0)::bigint AS tokens_today,
               coalesce(sum(u.cost) FILTER (WHERE u.created_at >= b.day_start), 0) AS cost_today,
               coalesce(sum(u.prompt_tokens + u.completion_tokens), 0)::bigint AS tokens_month,
               coalesce(sum(u.cost), 0) AS cost_month
          FROM bounds b
          LEFT JOIN llm_usage u ON u.user_id = owner AND u.provider <> 'builtin' AND u.created_at >= b.month_start
    ), held AS (
        SELECT coalesce(sum(tokens), 0)::bigint AS tokens, coalesce(sum(cost), 0) AS cost
          FROM llm_reservations WHERE user_id = owner AND expires_at > now()
    )
    SELECT used.tokens_today, used.cost_today, used.tokens_month, used.cost_month, held.tokens, held.cost,
           coalesce(l.daily_tokens, daily_tokens_default), coalesce(l.monthly_tokens, monthly_tokens_default),
           coalesce(l.daily_cost, daily_cost_default), coalesce(l.monthly_cost, monthly_cost_default)
      FROM used CROSS JOIN held LEFT JOIN user_limits l ON l.user_id = owner
$$;
COMMENT ON FUNCTION llm_usage_status(uuid, bigint, bigint, numeric, numeric) IS 'One user''s external LLM tokens and cost today and this month (UTC), open reservations, and effective limits (user_limits override, else the given configured defaults; 0: none).';

-- Reserves estimate tokens and estimate_cost money for one call of owner when
-- every limit has room; otherwise reserves nothing and names the limit.
-- Serialised per user by a transaction-level advisory lock (the one the
-- previous llm_reserve took); usage and reservations are read in one snapshot.
DROP FUNCTION llm_reserve(uuid, integer, bigint, integer);
CREATE FUNCTION llm_reserve(owner uuid, estimate integer, estimate_cost numeric,
                            daily_tokens_default bigint, monthly_tokens_default bigint,
                            daily_cost_default numeric, monthly_cost_default numeric, ttl_seconds integer)
    RETURNS TABLE (reservation bigint, exceeded text)
    LANGUAGE plpgsql
AS $$
DECLARE
    s record;
BEGIN
    PERFORM pg_advisory_xact_lock(hashtextextended('adcraft llm_reserve ' || owner::text, 0));
    DELETE FROM llm_reservations WHERE user_id = owner AND expires_at <= now();
    SELECT * INTO s FROM llm_usage_status(owner, daily_tokens_default, monthly_tokens_default,
                                          daily_cost_default, monthly_cost_default);
    exceeded := CASE
        WHEN s.daily_token_limit > 0 AND s.tokens_today + s.reserved_tokens + estimate > s.daily_token_limit
            THEN 'daily_tokens'
        WHEN s.monthly_token_limit > 0 AND s.tokens_month + s.reserved_tokens + estimate > s.monthly_token_limit
            THEN 'monthly_tokens'
        WHEN s.daily_cost_limit > 0 AND s.cost_today + s.reserved_cost + estimate_cost > s.daily_cost_limit
            THEN 'daily_cost'
        WHEN s.monthly_cost_limit > 0 AND s.cost_month + s.reserved_cost + estimate_cost > s.monthly_cost_limit
            THEN 'monthly_cost'
    END;
    IF exceeded IS NULL THEN
        INSERT INTO llm_reservations (user_id, tokens, cost, expires_at)
        VALUES (owner, estimate, estimate_cost, now() + make_interval(secs => ttl_seconds))
        RETURNING id INTO reservation;
    END IF;
    RETURN NEXT;
END
$$;
COMMENT ON FUNCTION llm_reserve(uuid, integer, numeric, bigint, bigint, numeric, numeric, integer) IS 'Holds estimate tokens and estimate_cost money of owner''s limits for one LLM call: (reservation id, NULL), or (NULL, the limit it would pass: daily_tokens, monthly_tokens, daily_cost or monthly_cost). The *_default arguments are the configured limits; user_limits overrides them.';

------------------------------------------------------------------------------
-- grants
------------------------------------------------------------------------------
REVOKE EXECUTE ON FUNCTION llm_reserve(uuid, integer, numeric, bigint, bigint, numeric, numeric, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION llm_reserve(uuid, integer, numeric, bigint, bigint, numeric, numeric, integer)
    TO adcraft_api, adcraft_worker;
GRANT SELECT ON user_limits TO adcraft_api, adcraft_worker, adcraft_analyst;
-- GET /api/usage reads a user's rows over a date range: llm_usage_user_day_idx (user_id, created_at) serves it.
