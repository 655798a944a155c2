-- 0004_generation: what every generation call cost, for limits, billing and tuning.

CREATE TABLE llm_usage (
    id                bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id           uuid        REFERENCES users ON DELETE CASCADE,
    campaign_id       uuid        REFERENCES campaigns ON DELETE SET NULL,
    job_id            uuid        REFERENCES jobs ON DELETE SET NULL,
    provider          text        NOT NULL CHECK (provider IN ('openai', 'builtin')),
    model             text        NOT NULL,
    content_type      text        CHECK (content_type IN ('email', 'social_post', 'ad_copy')),
    platform          text,
    purpose           text        NOT NULL DEFAULT 'generate' CHECK (purpose IN ('generate', 'repair')),
    prompt_tokens     integer     NOT NULL DEFAULT 0 CHECK (prompt_tokens >= 0),
    completion_tokens integer     NOT NULL DEFAULT 0 CHECK (completion_tokens >= 0),
    latency_ms        integer     NOT NULL DEFAULT 0 CHECK (latency_ms >= 0),
    http_status       integer,
    outcome           text        NOT NULL
        CHECK (outcome IN ('ok', 'retry', 'error', 'refused', 'length', 'schema', 'timeout', 'cancelled')),
    created_at        timestamptz NOT NULL DEFAULT now()
);
-- The daily limit: a user's tokens since midnight UTC.
CREATE INDEX llm_usage_user_day_idx ON llm_usage (user_id, created_at);
CREATE INDEX llm_usage_job_idx ON llm_usage (job_id) WHERE job_id IS NOT NULL;

COMMENT ON TABLE llm_usage IS 'One row per generation call (each HTTP request to the LLM, retries and repairs included; builtin calls too).';
COMMENT ON COLUMN llm_usage.id IS 'Row identifier.';
COMMENT ON COLUMN llm_usage.user_id IS 'Who asked.';
COMMENT ON COLUMN llm_usage.campaign_id IS 'Campaign the content was for, if any.';
COMMENT ON COLUMN llm_usage.job_id IS 'Generation job, for calls made by workers.';
COMMENT ON COLUMN llm_usage.provider IS 'openai (any OpenAI-compatible endpoint) or builtin.';
COMMENT ON COLUMN llm_usage.model IS 'Model name sent to the provider (builtin: "builtin").';
COMMENT ON COLUMN llm_usage.content_type IS 'What was being written.';
COMMENT ON COLUMN llm_usage.platform IS 'For which platform.';
COMMENT ON COLUMN llm_usage.purpose IS 'generate, or repair (the one "shorten" request after an over-long answer).';
COMMENT ON COLUMN llm_usage.prompt_tokens IS 'Input tokens the provider reported.';
COMMENT ON COLUMN llm_usage.completion_tokens IS 'Output tokens the provider reported (builtin: estimated at 4 characters a token).';
COMMENT ON COLUMN llm_usage.latency_ms IS 'Wall time of the call.';
COMMENT ON COLUMN llm_usage.http_status IS 'HTTP status of the answer; NULL when there was none (timeout, connection error, builtin).';
COMMENT ON COLUMN llm_usage.outcome IS 'ok, retry (retryable error), error, refused, length (cut off), schema (broke the schema), timeout, cancelled.';
COMMENT ON COLUMN llm_usage.created_at IS 'When the call finished.';

CREATE VIEW llm_usage_daily AS
SELECT date_trunc('day', created_at AT TIME ZONE 'UTC')::date AS day,
       user_id, provider, model,
       count(*)                                AS calls,
       count(*) FILTER (WHERE outcome = 'ok')  AS ok_calls,
       sum(prompt_tokens)                      AS prompt_tokens,
       sum(completion_tokens)                  AS completion_tokens,
       round(avg(latency_ms))                  AS avg_latency_ms
  FROM llm_usage
 GROUP BY 1, 2, 3, 4;
COMMENT ON VIEW llm_usage_daily IS 'Generation volume and tokens per day (UTC), user, provider and model.';
COMMENT ON COLUMN llm_usage_daily.day IS 'UTC day.';
COMMENT ON COLUMN llm_usage_daily.user_id IS 'Who asked.';
COMMENT ON COLUMN llm_usage_daily.provider IS 'openai or builtin.';
COMMENT ON COLUMN llm_usage_daily.model IS 'Model.';
COMMENT ON COLUMN llm_usage_daily.calls IS 'Calls made.';
COMMENT ON COLUMN llm_usage_daily.ok_calls IS 'Calls that returned usable content.';
COMMENT ON COLUMN llm_usage_daily.prompt_tokens IS 'Input tokens.';
COMMENT ON COLUMN llm_usage_daily.completion_tokens IS 'Output tokens.';
COMMENT ON COLUMN llm_usage_daily.avg_latency_ms IS 'Mean call latency.';

-- Tokens a user spent with the external provider today (UTC); builtin is free.
CREATE FUNCTION llm_tokens_today(owner uuid) RETURNS bigint
    LANGUAGE sql STABLE PARALLEL SAFE
    RETURN (SELECT coalesce(sum(prompt_tokens + completion_tokens), 0) FROM llm_usage
             WHERE user_id = owner AND provider <> 'builtin'
               AND created_at >= date_trunc('day', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC');
COMMENT ON FUNCTION llm_tokens_today(uuid) IS 'External LLM tokens used by one user since midnight UTC (the daily_token_limit counts these).';

GRANT SELECT, INSERT ON llm_usage TO adcraft_api, adcraft_worker;
GRANT SELECT ON llm_usage, llm_usage_daily TO adcraft_analyst;
GRANT SELECT, UPDATE ON campaigns TO adcraft_worker;
