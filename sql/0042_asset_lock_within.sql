-- 0042_asset_lock_within: the API waits at most two seconds for a stored
-- file's lock (asset_lock_key, 0018), then answers 409 with Retry-After.
--
-- The lock is held around writing a file and its row (an upload: a few
-- milliseconds), around deleting a row and unlinking what no row names, and
-- by the asset-renditions job for the whole resize (seconds). An API request
-- that waited on pg_advisory_lock held its API process as long as the job
-- took: twelve DELETEs of one asset whose renditions took 25 s kept the
-- pool's processes, and every other user's requests behind them, waiting
-- 25 s. Two uploads of the same bytes still take turns (a wait of
-- milliseconds); the worker keeps waiting with pg_advisory_lock.

CREATE FUNCTION asset_lock_within(sha256 text) RETURNS boolean
    LANGUAGE plpgsql
    SET lock_timeout = '2s'
AS $$
BEGIN
    PERFORM pg_advisory_lock(asset_lock_key(sha256));
    RETURN true;
EXCEPTION WHEN lock_not_available THEN
    RETURN false;
END
$$;
COMMENT ON FUNCTION asset_lock_within(text) IS 'Takes the session advisory lock of a stored file (asset_lock_key) waiting at most 2 s: true when taken (release it with pg_advisory_unlock), false when another session held it throughout. The API''s uploads and deletes; the worker waits with pg_advisory_lock.';
