-- 0007_security: least privilege (issue #8): operators, per-account login
-- throttling, token reservations for the daily limit, grants cut down to what
-- each role's statements use, and every object owned by adcraft_owner.

------------------------------------------------------------------------------
-- operators
------------------------------------------------------------------------------
ALTER TABLE users ADD COLUMN is_operator boolean NOT NULL DEFAULT false;
COMMENT ON COLUMN users.is_operator IS 'May see whole-system figures (workers, hosts, every tenant''s job counts). Set only with `adcraft user set-operator`; read from here on every request, never from a token.';

-- job_queue_status for one owner: what a user who is not an operator sees.
CREATE FUNCTION job_queue_status_of(owner uuid)
    RETURNS TABLE (queue text, queued bigint, running bigint, completed bigint, failed bigint, cancelled bigint,
                   oldest_queued_seconds bigint)
    LANGUAGE sql STABLE
AS $$
    SELECT q.name,
           count(j.id) FILTER (WHERE j.state = 'queued'),
           count(j.id) FILTER (WHERE j.state = 'running'),
           count(j.id) FILTER (WHERE j.state = 'completed'),
           count(j.id) FILTER (WHERE j.state = 'failed'),
           count(j.id) FILTER (WHERE j.state = 'cancelled'),
           coalesce(extract(epoch FROM now() - min(j.created_at) FILTER (WHERE j.state = 'queued'
                                                                        AND j.run_at <= now())), 0)::bigint
      FROM job_queues q LEFT JOIN jobs j ON j.queue = q.name AND j.user_id = owner
     GROUP BY q.name
$$;
COMMENT ON FUNCTION job_queue_status_of(uuid) IS 'The job_queue_status view counted over one owner''s jobs (GET /api/jobs/queues/status and /api/jobs/health for users who are not operators).';

------------------------------------------------------------------------------
-- per-account login throttling
------------------------------------------------------------------------------
CREATE TABLE login_failures (
    email         text        PRIMARY KEY CHECK (email = lower(email) AND length(email) BETWEEN 1 AND 254),
    failures      integer     NOT NULL CHECK (failures >= 1),
    last_attempt  timestamptz NOT NULL DEFAULT now(),
    locked_until  timestamptz
);
CREATE INDEX login_failures_last_idx ON login_failures (last_attempt);
COMMENT ON TABLE login_failures IS 'Sign-in attempts per email (registered or not) that have not ended in a success; 5 within 15 minutes lock the email out (HTTP 429). A success deletes the row; rows idle for an hour are pruned by login_attempt().';
COMMENT ON COLUMN login_failures.email IS 'The address as typed, lower-cased. Unknown addresses get rows too, so the answer does not tell which accounts exist.';
COMMENT ON COLUMN login_failures.failures IS 'Attempts counted since the window opened (an attempt counts when it starts; a success removes the row).';
COMMENT ON COLUMN login_failures.last_attempt IS 'Last counted attempt.';
COMMENT ON COLUMN login_failures.locked_until IS 'Attempts before this time are refused without checking the password.';

-- Lock after the n-th counted attempt (n >= 5): 60 s * 2^(n-5), at most 15 minutes.
CREATE FUNCTION login_lock(failures integer) RETURNS interval
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN CASE WHEN failures < 5 THEN NULL
                ELSE make_interval(secs => least(900, 60 * power(2, least(failures - 5, 10)))) END;
COMMENT ON FUNCTION login_lock(integer) IS 'How long an email is locked after its n-th counted sign-in attempt: none below 5, then 60 s doubling, capped at 15 minutes.';

-- Counts one sign-in attempt for an email, atomically (the row lock of the upsert
-- serialises concurrent attempts from any address). Returns 0 when the attempt may
-- go on to the password check, else the seconds until the email may try again.
CREATE FUNCTION login_attempt(address text) RETURNS integer
    LANGUAGE plpgsql
AS $$
DECLARE
    key text := lower(address);
    f login_failures;
    inserted boolean;
BEGIN
    DELETE FROM login_failures WHERE email IN (
        SELECT email FROM login_failures
         WHERE last_attempt < now() - interval '1 hour' AND coalesce(locked_until, '-infinity') < now()
         LIMIT 100);
    INSERT INTO login_failures AS l (email, failures) VALUES (key, 1)
    ON CONFLICT (email) DO UPDATE SET email = l.email   -- locks the row until commit
    RETURNING l.*, l.xmax = 0 INTO f.email, f.failures, f.last_attempt, f.locked_until, inserted;
    IF inserted THEN
        RETURN 0;
    END IF;
    IF f.locked_until > now() THEN
        RETURN ceil(extract(epoch FROM f.locked_until - now()))::integer;
    END IF;
    -- 15 quiet minutes (after any lock ran out) start a new window
    IF f.last_attempt < now() - interval '15 minutes'
       AND coalesce(f.locked_until, '-infinity') < now() - interval '15 minutes' THEN
        f.failures := 0;
    END IF;
    UPDATE login_failures
       SET failures = f.failures + 1, last_attempt = now(),
           locked_until = CASE WHEN f.failures + 1 >= 5 THEN now() + login_lock(f.failures + 1) END
     WHERE email = key;
    RETURN 0;
END
$$;
COMMENT ON FUNCTION login_attempt(text) IS 'Counts a sign-in attempt for an email (lower-cased, registered or not): 0 = go on and check the password, else seconds to wait (Retry-After).';

CREATE FUNCTION login_succeeded(address text) RETURNS void
    LANGUAGE sql
    BEGIN ATOMIC
        DELETE FROM login_failures WHERE email = lower(address);
    END;
COMMENT ON FUNCTION login_succeeded(text) IS 'A correct password: forgets the email''s counted attempts and any lock.';

------------------------------------------------------------------------------
-- daily token limit: reserve before a call, settle after it
------------------------------------------------------------------------------
CREATE TABLE llm_reservations (
    id          bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id     uuid        NOT NULL REFERENCES users ON DELETE CASCADE,
    tokens      integer     NOT NULL CHECK (tokens > 0),
    created_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL,
    CHECK (expires_at > created_at)
);
CREATE INDEX llm_reservations_user_idx ON llm_reservations (user_id);
COMMENT ON TABLE llm_reservations IS 'Tokens held for LLM calls in flight: a call starts only if today''s usage plus every open reservation plus its own estimate fits the daily limit; when it ends its llm_usage row replaces the reservation in one statement.';
COMMENT ON COLUMN llm_reservations.id IS 'Row identifier, handed back when the call is settled.';
COMMENT ON COLUMN llm_reservations.user_id IS 'Whose daily limit the tokens count against.';
COMMENT ON COLUMN llm_reservations.tokens IS 'The estimate held (llm_token_estimate).';
COMMENT ON COLUMN llm_reservations.created_at IS 'When the call was about to start.';
COMMENT ON COLUMN llm_reservations.expires_at IS 'After this the reservation no longer counts (a process that died mid-call) and is deleted by the next llm_reserve() of the user.';

-- Reserves estimate tokens for one call of owner, or returns NULL when that would
-- exceed daily_limit. Serialised per user by a transaction-level advisory lock;
-- usage and reservations are read in one snapshot, so a settle committing
-- meanwhile is seen entirely or not at all.
CREATE FUNCTION llm_reserve(owner uuid, estimate integer, daily_limit bigint, ttl_seconds integer) RETURNS bigint
    LANGUAGE plpgsql
AS $$
DECLARE
    rid bigint;
BEGIN
    PERFORM pg_advisory_xact_lock(hashtextextended('adcraft llm_reserve ' || owner::text, 0));
    DELETE FROM llm_reservations WHERE user_id = owner AND expires_at <= now();
    INSERT INTO llm_reservations (user_id, tokens, expires_at)
    SELECT owner, estimate, now() + make_interval(secs => ttl_seconds)
     WHERE llm_tokens_today(owner)
           + coalesce((SELECT sum(tokens) FROM llm_reservations WHERE user_id = owner), 0)
           + estimate <= daily_limit
    RETURNING id INTO rid;
    RETURN rid;
END
$$;
COMMENT ON FUNCTION llm_reserve(uuid, integer, bigint, integer) IS 'Holds estimate tokens of owner''s daily limit for one LLM call; NULL when used + reserved + estimate would pass daily_limit.';

-- The usage insert (statements.c llm_usage_insert) also deletes the reservations it settles.

------------------------------------------------------------------------------
-- grants: exactly what each role's statements use (src/core/statements.c)
------------------------------------------------------------------------------
REVOKE ALL ON ALL TABLES IN SCHEMA public FROM adcraft_api, adcraft_worker, adcraft_analyst;
REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM adcraft_api, adcraft_worker, adcraft_analyst;

-- Functions that write are not for everyone (PostgreSQL grants EXECUTE to PUBLIC).
REVOKE EXECUTE ON FUNCTION auth_rotate_refresh(text, text, integer), login_attempt(text), login_succeeded(text),
    llm_reserve(uuid, integer, bigint, integer),
    enqueue(text, text, jsonb, uuid, uuid, integer, timestamptz, integer, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth_rotate_refresh(text, text, integer), login_attempt(text), login_succeeded(text)
    TO adcraft_api;
GRANT EXECUTE ON FUNCTION llm_reserve(uuid, integer, bigint, integer) TO adcraft_api, adcraft_worker;

-- adcraft-api
GRANT SELECT ON users TO adcraft_api;
GRANT INSERT (email, name, password_hash) ON users TO adcraft_api;   -- register; never is_operator
GRANT SELECT, INSERT, UPDATE ON refresh_tokens TO adcraft_api;       -- issue, rotate, revoke
GRANT SELECT, INSERT, UPDATE, DELETE ON login_failures TO adcraft_api;
GRANT SELECT, INSERT, UPDATE, DELETE ON personas, campaigns TO adcraft_api;
GRANT SELECT ON campaign_status_transitions TO adcraft_api;
GRANT SELECT, INSERT, UPDATE ON jobs TO adcraft_api;                  -- read, enqueue, cancel
GRANT SELECT ON job_queue_status, workers TO adcraft_api;             -- jobs health (operators)
GRANT SELECT ON job_queues TO adcraft_api;                            -- job_queue_status_of()
GRANT SELECT, INSERT ON llm_usage TO adcraft_api;
GRANT SELECT, INSERT, DELETE ON llm_reservations TO adcraft_api;

-- adcraft-worker
GRANT SELECT, UPDATE, DELETE ON jobs TO adcraft_worker;               -- claim, finish, rescue, prune
GRANT SELECT, INSERT, UPDATE ON workers TO adcraft_worker;            -- heartbeat upsert, stop
GRANT SELECT, UPDATE ON campaigns TO adcraft_worker;                  -- context, append items, release
GRANT SELECT ON personas TO adcraft_worker;
GRANT SELECT, INSERT ON llm_usage TO adcraft_worker;
GRANT SELECT, INSERT, DELETE ON llm_reservations TO adcraft_worker;

-- adcraft_analyst: read-only, no secrets (password hashes, refresh tokens, who is being attacked)
GRANT SELECT (id, email, name, is_operator, created_at, updated_at) ON users TO adcraft_analyst;
GRANT SELECT ON personas, campaigns, campaign_status_transitions, jobs, job_queues, workers, llm_usage,
    llm_reservations, campaign_content, campaign_summary, job_queue_status, llm_usage_daily TO adcraft_analyst;

------------------------------------------------------------------------------
-- ownership: adcraft_owner (NOLOGIN, not a superuser) owns the schema's objects
------------------------------------------------------------------------------
GRANT USAGE, CREATE ON SCHEMA public TO adcraft_owner;

-- Gives adcraft_owner every table, view, sequence and function of schema public that
-- another role owns (extension members excepted). adcraft migrate calls it after
-- each migration, so objects made by later migrations end up owned alike.
CREATE FUNCTION adcraft_claim_ownership() RETURNS integer
    LANGUAGE plpgsql
AS $$
DECLARE
    o record;
    n integer := 0;
BEGIN
    FOR o IN
        SELECT format('ALTER %s %s OWNER TO adcraft_owner',
                      CASE c.relkind WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW'
                                     WHEN 'S' THEN 'SEQUENCE' ELSE 'TABLE' END, c.oid::regclass) AS cmd
          FROM pg_class c
         WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p', 'v', 'm', 'S')
           AND c.relowner <> 'adcraft_owner'::regrole
           AND NOT EXISTS (SELECT FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid
                                                     AND d.deptype IN ('e', 'i', 'a'))
        UNION ALL
        SELECT format('ALTER ROUTINE %s OWNER TO adcraft_owner', p.oid::regprocedure)
          FROM pg_proc p
         WHERE p.pronamespace = 'public'::regnamespace AND p.proowner <> 'adcraft_owner'::regrole
           AND NOT EXISTS (SELECT FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid
                                                     AND d.deptype = 'e')
    LOOP
        EXECUTE o.cmd;
        n := n + 1;
    END LOOP;
    RETURN n;
END
$$;
COMMENT ON FUNCTION adcraft_claim_ownership() IS 'Makes adcraft_owner the owner of every table, view, sequence and function in schema public (extension members excepted); run by adcraft migrate after each migration. Returns how many objects changed owner.';
REVOKE EXECUTE ON FUNCTION adcraft_claim_ownership() FROM PUBLIC;

SELECT adcraft_claim_ownership();

COMMENT ON ROLE adcraft_owner IS 'Owns adcraft''s schema objects (tables, views, functions); never logs in and is not a superuser.';
