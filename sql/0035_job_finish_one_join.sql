-- 0035_job_finish_one_join: a batch's outcomes are recorded with one look-up
-- of each job, and from its latest version (issue #14 §3).
--
-- 0022's job_finish_claim() decided each job's next state in a CTE that
-- joined the outcomes with jobs, then updated jobs joined with that CTE: two
-- primary-key probes per job, and the decision read the row as the
-- statement's snapshot saw it. When the API cancelled a job between that
-- snapshot and the worker's UPDATE, the UPDATE waited for the cancel, found
-- the row 'cancelled' (its WHERE is evaluated again on the new version) and
-- still wrote the next state decided from the old 'running': a completed
-- outcome overwrote the cancel.
--
-- Now the outcomes are joined with jobs once, in the UPDATE itself, and the
-- next state is computed in its SET list from the target row
-- (job_next_state(), inlined), so a row that changed meanwhile is decided on
-- its new version.

CREATE FUNCTION job_next_state(state text, outcome text, attempts integer, max_attempts integer)
    RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE WHEN state = 'cancelled' THEN 'cancelled'
            WHEN outcome = 'retry' AND attempts >= max_attempts THEN 'failed'
            WHEN outcome IN ('retry', 'release') THEN 'queued'
            ELSE outcome END;
COMMENT ON FUNCTION job_next_state(text, text, integer, integer) IS
    'The state a job takes when its worker reports outcome (completed, failed, retry, release, cancelled) for a job now in state after attempts of max_attempts: a cancelled job stays cancelled, a retry with no attempts left fails, retry and release queue it again.';

CREATE OR REPLACE FUNCTION job_finish_claim(worker text, outcomes jsonb, queues text[], n integer)
    RETURNS TABLE (id uuid, queue text, kind text, payload jsonb, attempts integer, max_attempts integer,
                   user_id uuid, campaign_id uuid)
    LANGUAGE plpgsql VOLATILE
    -- Never a bitmap scan for the claim (0022).
    SET enable_bitmapscan = off
AS $$
#variable_conflict use_column
BEGIN
    IF jsonb_typeof(outcomes) = 'array' AND jsonb_array_length(outcomes) > 0 THEN
        UPDATE jobs j SET state = job_next_state(j.state, x.outcome, j.attempts, j.max_attempts),
               attempts = CASE WHEN x.outcome = 'release' AND j.state = 'running' THEN j.attempts - 1
                               ELSE j.attempts END,
               run_at = CASE WHEN x.outcome = 'retry'
                              AND job_next_state(j.state, x.outcome, j.attempts, j.max_attempts) = 'queued'
                             THEN now() + job_backoff(j.attempts) ELSE j.run_at END,
               finished_at = CASE WHEN job_next_state(j.state, x.outcome, j.attempts, j.max_attempts) = 'queued'
                                  THEN NULL ELSE coalesce(j.finished_at, now()) END,
               locked_by = NULL, heartbeat_at = NULL,
               result = coalesce(x.result, j.result),
               last_error = coalesce(x.error, j.last_error),
               progress = CASE WHEN job_next_state(j.state, x.outcome, j.attempts, j.max_attempts) = 'completed'
                          THEN j.progress || jsonb_build_object('percent', 100) ELSE j.progress END
          FROM jsonb_to_recordset(outcomes) AS x(id uuid, attempt int, outcome text, result jsonb, error text)
         WHERE j.id = x.id AND j.attempts = x.attempt
           AND ((j.state = 'running' AND j.locked_by = worker) OR (j.state = 'cancelled' AND x.outcome <> 'release'));
    END IF;
    IF n > 0 THEN
        RETURN QUERY
        UPDATE jobs j SET state = 'running', attempts = j.attempts + 1, locked_by = worker,
               heartbeat_at = now(), started_at = coalesce(j.started_at, now())
          FROM (SELECT jobs.id FROM jobs
                 WHERE jobs.state = 'queued' AND jobs.run_at <= now() AND jobs.queue = ANY(queues)
                 ORDER BY jobs.priority DESC, jobs.run_at, jobs.id
                 LIMIT n FOR UPDATE SKIP LOCKED) AS pick
         WHERE j.id = pick.id
        RETURNING j.id, j.queue, j.kind, j.payload, j.attempts, j.max_attempts, j.user_id, j.campaign_id;
    END IF;
END
$$;
COMMENT ON FUNCTION job_finish_claim(text, jsonb, text[], integer) IS
    'adcraft-worker''s one round trip per batch: records the outcomes of the batch it ran (fenced on locked_by and attempt; the next state from job_next_state() on the row''s latest version) and claims up to n due jobs of the queues (FOR UPDATE SKIP LOCKED, priority DESC, run_at, id), in one transaction.';
