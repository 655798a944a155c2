-- 0003_jobs: the job queue (was Bull on Redis) as one table, driven by LISTEN/NOTIFY.
--
-- Life of a job: queued -> running -> completed | failed | cancelled; a failed
-- attempt goes back to queued with exponential backoff until max_attempts.
-- Workers claim with FOR UPDATE SKIP LOCKED; every claim increments attempts,
-- and completion is fenced on (locked_by, attempts), so a rescued job's old
-- worker can no longer complete it.

CREATE TABLE job_queues (
    name        text PRIMARY KEY,
    description text NOT NULL
);
INSERT INTO job_queues VALUES
    ('content-generation',   'AI content for campaigns: whole campaigns and single items.'),
    ('email-sending',        'Delivery of campaign emails.'),
    ('analytics-processing', 'Campaign analytics aggregation.'),
    ('data-exports',         'Report and data exports.');
COMMENT ON TABLE job_queues IS 'The queues jobs can be put on.';
COMMENT ON COLUMN job_queues.name IS 'Queue name, as in API paths (/api/jobs/:queue/:jobId).';
COMMENT ON COLUMN job_queues.description IS 'What the queue is for.';

CREATE TABLE jobs (
    id               uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    queue            text        NOT NULL REFERENCES job_queues,
    kind             text        NOT NULL CHECK (kind ~ '^[a-z][a-z0-9-]{0,63}$'),
    payload          jsonb       NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(payload) = 'object'),
    state            text        NOT NULL DEFAULT 'queued'
        CHECK (state IN ('queued', 'running', 'completed', 'failed', 'cancelled')),
    priority         smallint    NOT NULL DEFAULT 0,
    run_at           timestamptz NOT NULL DEFAULT now(),
    attempts         integer     NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    max_attempts     integer     NOT NULL DEFAULT 5 CHECK (max_attempts BETWEEN 1 AND 100),
    progress         jsonb       NOT NULL DEFAULT '{"done": 0, "total": 0, "percent": 0}'
        CHECK (jsonb_typeof(progress) = 'object'),
    result           jsonb,
    last_error       text,
    user_id          uuid        REFERENCES users ON DELETE CASCADE,
    campaign_id      uuid        REFERENCES campaigns ON DELETE CASCADE,
    idempotency_key  text        CHECK (length(idempotency_key) BETWEEN 1 AND 200),
    locked_by        text,
    heartbeat_at     timestamptz,
    created_at       timestamptz NOT NULL DEFAULT now(),
    started_at       timestamptz,
    finished_at      timestamptz,
    CHECK ((state = 'running') = (locked_by IS NOT NULL)),
    CHECK ((state IN ('completed', 'failed', 'cancelled')) = (finished_at IS NOT NULL))
);
-- Claiming: the next queued jobs by priority, then due time.
CREATE INDEX jobs_claim_idx ON jobs (priority DESC, run_at, id) WHERE state = 'queued';
-- Rescue: running jobs whose worker stopped heartbeating.
CREATE INDEX jobs_running_idx ON jobs (heartbeat_at) WHERE state = 'running';
-- A user's jobs, newest first (GET /api/jobs/user/recent, dashboard).
CREATE INDEX jobs_user_idx ON jobs (user_id, created_at DESC, id DESC);
CREATE INDEX jobs_campaign_idx ON jobs (campaign_id);
-- Pruning finished jobs after the retention period.
CREATE INDEX jobs_finished_idx ON jobs (finished_at) WHERE finished_at IS NOT NULL;
-- One job per owner and idempotency key (system jobs, with no owner, included).
CREATE UNIQUE INDEX jobs_idempotency_idx ON jobs (user_id, idempotency_key) NULLS NOT DISTINCT
    WHERE idempotency_key IS NOT NULL;
-- At most one live whole-campaign generation per campaign.
CREATE UNIQUE INDEX jobs_one_generation_idx ON jobs (campaign_id)
    WHERE queue = 'content-generation' AND state IN ('queued', 'running');

COMMENT ON TABLE jobs IS 'Background jobs of every queue. Workers LISTEN on adcraft_jobs and claim with FOR UPDATE SKIP LOCKED. Enqueue with enqueue(), from any client.';
COMMENT ON COLUMN jobs.id IS 'Public identifier.';
COMMENT ON COLUMN jobs.queue IS 'One of job_queues.';
COMMENT ON COLUMN jobs.kind IS 'What to do within the queue, e.g. generate-campaign; selects the worker handler.';
COMMENT ON COLUMN jobs.payload IS 'Handler input.';
COMMENT ON COLUMN jobs.state IS 'queued, running, completed, failed or cancelled.';
COMMENT ON COLUMN jobs.priority IS 'Higher runs first.';
COMMENT ON COLUMN jobs.run_at IS 'Not claimed before this time (retries back off by moving it).';
COMMENT ON COLUMN jobs.attempts IS 'Claims so far; the current attempt''s number while running.';
COMMENT ON COLUMN jobs.max_attempts IS 'After this many failed attempts the job fails for good.';
COMMENT ON COLUMN jobs.progress IS '{done, total, percent} reported by the handler.';
COMMENT ON COLUMN jobs.result IS 'Handler output once finished (also partial results of a cancelled or failed job).';
COMMENT ON COLUMN jobs.last_error IS 'Why the last attempt failed.';
COMMENT ON COLUMN jobs.user_id IS 'Owner, for user-facing jobs.';
COMMENT ON COLUMN jobs.campaign_id IS 'Campaign the job works on, if any.';
COMMENT ON COLUMN jobs.idempotency_key IS 'Client-chosen key; enqueueing the same key twice for one owner yields one job.';
COMMENT ON COLUMN jobs.locked_by IS 'Worker running the job (host:pid:nonce); NULL unless running.';
COMMENT ON COLUMN jobs.heartbeat_at IS 'Last sign of life from that worker; stale means rescue.';
COMMENT ON COLUMN jobs.created_at IS 'Enqueue time.';
COMMENT ON COLUMN jobs.started_at IS 'First claim.';
COMMENT ON COLUMN jobs.finished_at IS 'When it reached completed, failed or cancelled.';

CREATE TABLE workers (
    id           text        PRIMARY KEY,
    hostname     text        NOT NULL,
    pid          integer     NOT NULL,
    started_at   timestamptz NOT NULL DEFAULT now(),
    heartbeat_at timestamptz NOT NULL DEFAULT now(),
    jobs_done    bigint      NOT NULL DEFAULT 0,
    stopped_at   timestamptz
);
COMMENT ON TABLE workers IS 'adcraft-worker processes, with their heartbeats (GET /api/jobs/health).';
COMMENT ON COLUMN workers.id IS 'host:pid:nonce, as in jobs.locked_by.';
COMMENT ON COLUMN workers.hostname IS 'Host the worker runs on.';
COMMENT ON COLUMN workers.pid IS 'Process id on that host.';
COMMENT ON COLUMN workers.started_at IS 'Process start.';
COMMENT ON COLUMN workers.heartbeat_at IS 'Last heartbeat.';
COMMENT ON COLUMN workers.jobs_done IS 'Jobs this process finished.';
COMMENT ON COLUMN workers.stopped_at IS 'Clean shutdown time; NULL while running or after a crash.';

ALTER TABLE campaigns ADD COLUMN status_before_generation text
    CHECK (status_before_generation IN ('draft', 'active', 'completed'));
COMMENT ON COLUMN campaigns.status_before_generation IS 'Status to return to when the running generation job ends.';

-- Retry delay after attempt n: 2^n seconds (capped at one hour), with +/-25% jitter.
CREATE FUNCTION job_backoff(attempt integer) RETURNS interval
    LANGUAGE sql VOLATILE PARALLEL SAFE
    RETURN make_interval(secs => least(3600, power(2, least(attempt, 12))) * (0.75 + random() * 0.5));
COMMENT ON FUNCTION job_backoff(integer) IS 'Exponential backoff with jitter for the next attempt.';

CREATE FUNCTION enqueue(queue text, kind text, payload jsonb DEFAULT '{}', user_id uuid DEFAULT NULL,
                        campaign_id uuid DEFAULT NULL, priority integer DEFAULT 0,
                        run_at timestamptz DEFAULT now(), max_attempts integer DEFAULT 5,
                        idempotency_key text DEFAULT NULL) RETURNS uuid
    LANGUAGE sql VOLATILE
AS $$
    WITH ins AS (
        INSERT INTO jobs (queue, kind, payload, user_id, campaign_id, priority, run_at, max_attempts,
                          idempotency_key)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
        ON CONFLICT (user_id, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
        RETURNING id)
    SELECT id FROM ins
    UNION ALL
    SELECT j.id FROM jobs j WHERE $9 IS NOT NULL AND j.user_id IS NOT DISTINCT FROM $4
                              AND j.idempotency_key = $9
    LIMIT 1
$$;
COMMENT ON FUNCTION enqueue(text, text, jsonb, uuid, uuid, integer, timestamptz, integer, text) IS
    'Puts a job on a queue and returns its id (the existing job''s id for a repeated idempotency key). Runs in the caller''s transaction: the job exists only if the caller commits.';

-- Workers LISTEN on adcraft_jobs: woken by new jobs and by retries.
CREATE FUNCTION jobs_notify_queued() RETURNS trigger
    LANGUAGE plpgsql
AS $$
BEGIN
    PERFORM pg_notify('adcraft_jobs', NEW.queue);
    RETURN NULL;
END
$$;
CREATE TRIGGER jobs_notify_insert AFTER INSERT ON jobs
    FOR EACH ROW WHEN (NEW.state = 'queued') EXECUTE FUNCTION jobs_notify_queued();
CREATE TRIGGER jobs_notify_requeue AFTER UPDATE OF state ON jobs
    FOR EACH ROW WHEN (NEW.state = 'queued' AND OLD.state <> 'queued') EXECUTE FUNCTION jobs_notify_queued();

-- A running job that is cancelled: its worker hears adcraft_cancel and aborts at once.
CREATE FUNCTION jobs_notify_cancel() RETURNS trigger
    LANGUAGE plpgsql
AS $$
BEGIN
    PERFORM pg_notify('adcraft_cancel', NEW.id::text);
    RETURN NULL;
END
$$;
CREATE TRIGGER jobs_notify_cancel AFTER UPDATE OF state ON jobs
    FOR EACH ROW WHEN (OLD.state = 'running' AND NEW.state = 'cancelled') EXECUTE FUNCTION jobs_notify_cancel();

-- When a generation job ends, however it ends, its campaign leaves "generating".
CREATE FUNCTION jobs_release_campaign() RETURNS trigger
    LANGUAGE plpgsql
AS $$
BEGIN
    UPDATE campaigns
       SET status = coalesce(status_before_generation, 'draft'), status_before_generation = NULL,
           updated_at = now()
     WHERE id = NEW.campaign_id AND status = 'generating';
    RETURN NULL;
END
$$;
CREATE TRIGGER jobs_release_campaign AFTER UPDATE OF state ON jobs
    FOR EACH ROW WHEN (NEW.queue = 'content-generation' AND NEW.campaign_id IS NOT NULL
                       AND NEW.state IN ('completed', 'failed', 'cancelled') AND OLD.state <> NEW.state)
    EXECUTE FUNCTION jobs_release_campaign();

CREATE FUNCTION job_json(j jobs) RETURNS json
    LANGUAGE sql STABLE PARALLEL SAFE
    RETURN json_build_object(
        'id', j.id, 'queue', j.queue, 'kind', j.kind, 'state', j.state, 'progress', j.progress,
        'attempts', j.attempts, 'maxAttempts', j.max_attempts, 'priority', j.priority,
        'campaignId', j.campaign_id, 'runAt', rfc3339(j.run_at), 'createdAt', rfc3339(j.created_at),
        'startedAt', rfc3339(j.started_at), 'finishedAt', rfc3339(j.finished_at),
        'result', j.result, 'error', j.last_error);
COMMENT ON FUNCTION job_json(jobs) IS 'API representation of a job.';

CREATE VIEW job_queue_status AS
SELECT q.name AS queue,
       count(j.id) FILTER (WHERE j.state = 'queued')    AS queued,
       count(j.id) FILTER (WHERE j.state = 'running')   AS running,
       count(j.id) FILTER (WHERE j.state = 'completed') AS completed,
       count(j.id) FILTER (WHERE j.state = 'failed')    AS failed,
       count(j.id) FILTER (WHERE j.state = 'cancelled') AS cancelled,
       coalesce(extract(epoch FROM now() - min(j.created_at) FILTER (WHERE j.state = 'queued' AND j.run_at <= now())),
                0)::bigint AS oldest_queued_seconds
  FROM job_queues q LEFT JOIN jobs j ON j.queue = q.name
 GROUP BY q.name;
COMMENT ON VIEW job_queue_status IS 'Per-queue job counts by state and the age of the oldest due job.';
COMMENT ON COLUMN job_queue_status.queue IS 'Queue name.';
COMMENT ON COLUMN job_queue_status.queued IS 'Jobs waiting (due or scheduled).';
COMMENT ON COLUMN job_queue_status.running IS 'Jobs claimed by a worker.';
COMMENT ON COLUMN job_queue_status.completed IS 'Finished successfully (kept for the retention period).';
COMMENT ON COLUMN job_queue_status.failed IS 'Failed for good.';
COMMENT ON COLUMN job_queue_status.cancelled IS 'Cancelled by their owner.';
COMMENT ON COLUMN job_queue_status.oldest_queued_seconds IS 'Age of the oldest job that is due and unclaimed.';

GRANT SELECT ON job_queues, job_queue_status, workers TO adcraft_api, adcraft_analyst;
GRANT SELECT, INSERT, UPDATE ON jobs TO adcraft_api;
GRANT SELECT, INSERT, UPDATE, DELETE ON jobs TO adcraft_worker;
GRANT SELECT ON job_queues TO adcraft_worker;
GRANT SELECT, INSERT, UPDATE ON workers TO adcraft_worker;
GRANT UPDATE ON campaigns TO adcraft_worker;
GRANT SELECT ON jobs TO adcraft_analyst;
