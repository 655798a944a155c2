-- 0017_exports: data exports (issue #13 section 1). POST /api/exports makes a
-- row here and an export job on the data-exports queue; the worker streams
-- `COPY (SELECT * FROM export_<kind>(...)) TO STDOUT` into a file under
-- exports_dir and marks the row ready; nginx serves the file through a
-- signed link (X-Accel-Redirect). The worker deletes files past expires_at
-- and marks their rows expired (docs/exports.md).

CREATE TABLE exports (
    id           uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id      uuid        NOT NULL REFERENCES users ON DELETE CASCADE,
    kind         text        NOT NULL
        CHECK (kind IN ('campaigns', 'content', 'contacts', 'sends', 'analytics', 'usage')),
    format       text        NOT NULL CHECK (format IN ('csv', 'ndjson', 'json')),
    bom          boolean     NOT NULL DEFAULT false,
    filters      jsonb       NOT NULL DEFAULT '{}'
        CHECK (jsonb_typeof(filters) = 'object' AND pg_column_size(filters) <= 4096),
    status       text        NOT NULL DEFAULT 'queued'
        CHECK (status IN ('queued', 'running', 'ready', 'failed', 'expired')),
    rows         bigint      CHECK (rows >= 0),
    bytes        bigint      CHECK (bytes >= 0),
    file_name    text        CHECK (file_name ~ '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\.(csv|ndjson|json)$'),
    expires_at   timestamptz,
    job_id       uuid        REFERENCES jobs ON DELETE SET NULL,
    error        text        CHECK (length(error) <= 1000),
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    finished_at  timestamptz,
    CONSTRAINT exports_bom_csv CHECK (NOT bom OR format = 'csv'),
    -- a ready export names its file and says what it holds and until when
    CONSTRAINT exports_ready_complete CHECK (status <> 'ready'
        OR (file_name IS NOT NULL AND rows IS NOT NULL AND bytes IS NOT NULL AND expires_at IS NOT NULL)),
    -- only a ready export has a file
    CONSTRAINT exports_file_only_ready CHECK (status = 'ready' OR file_name IS NULL)
);
CREATE INDEX exports_user_list_idx ON exports (user_id, created_at DESC, id DESC);
CREATE INDEX exports_expiry_idx ON exports (expires_at) WHERE status = 'ready';
CREATE INDEX exports_job_idx ON exports (job_id) WHERE job_id IS NOT NULL;

COMMENT ON TABLE exports IS 'Data exports a user asked for (POST /api/exports): what to export, the job that writes the file under exports_dir, and the file once ready. Files are deleted at expires_at (the worker) or by DELETE /api/exports/:id.';
COMMENT ON COLUMN exports.id IS 'Public identifier; also the file''s name (id.format) under exports_dir.';
COMMENT ON COLUMN exports.user_id IS 'Owner; every API statement filters on it, and the download link''s signature covers it.';
COMMENT ON COLUMN exports.kind IS 'What is exported: campaigns, content (one row per content item), contacts, sends (one row per recipient), analytics (daily or hourly rollups) or usage (llm_usage rows).';
COMMENT ON COLUMN exports.format IS 'csv (RFC 4180, header line, cells made spreadsheet-safe by csv_safe), ndjson (one JSON object a line) or json (one array).';
COMMENT ON COLUMN exports.bom IS 'csv only: the file starts with a UTF-8 byte order mark (for spreadsheet programs).';
COMMENT ON COLUMN exports.filters IS 'The validated filters of the request (camelCase keys, which depend on kind), passed to export_<kind>().';
COMMENT ON COLUMN exports.status IS 'queued -> running -> ready -> expired, or failed. The API shows failed too while the job has failed or been cancelled, and expired once expires_at has passed (export_json).';
COMMENT ON COLUMN exports.rows IS 'Data rows in the file (the CSV header line not counted).';
COMMENT ON COLUMN exports.bytes IS 'Size of the file in bytes.';
COMMENT ON COLUMN exports.file_name IS 'The file under exports_dir while ready (id.format); NULL otherwise.';
COMMENT ON COLUMN exports.expires_at IS 'When the file is deleted and download links stop working (finished_at + export_ttl).';
COMMENT ON COLUMN exports.job_id IS 'The export job (queue data-exports, kind export); NULL once the job is pruned.';
COMMENT ON COLUMN exports.error IS 'Why the export failed.';
COMMENT ON COLUMN exports.created_at IS 'When it was asked for; with id, the list order.';
COMMENT ON COLUMN exports.updated_at IS 'Last change of status.';
COMMENT ON COLUMN exports.finished_at IS 'When the file was complete (or the export failed).';

-- The API representation. A queued or running export whose job failed or was
-- cancelled shows failed with the job's error (a job can fail for good
-- without its handler running: attempts used up by crashes); a ready one
-- past expires_at shows expired before the worker's sweep gets to it.
CREATE FUNCTION export_json(e exports) RETURNS json
LANGUAGE sql STABLE AS $$
    SELECT json_build_object(
        'id', e.id, 'kind', e.kind, 'format', e.format, 'bom', e.bom, 'filters', e.filters,
        'status', CASE WHEN e.status IN ('queued', 'running') AND j.state IN ('failed', 'cancelled') THEN 'failed'
                       WHEN e.status = 'ready' AND e.expires_at <= now() THEN 'expired'
                       ELSE e.status END,
        'rows', e.rows, 'bytes', e.bytes, 'expiresAt', e.expires_at, 'jobId', e.job_id,
        'error', CASE WHEN e.status IN ('queued', 'running') AND j.state IN ('failed', 'cancelled')
                      THEN coalesce(e.error, j.last_error) ELSE e.error END,
        'createdAt', e.created_at, 'finishedAt', e.finished_at)
      FROM (SELECT) AS one
      LEFT JOIN jobs j ON j.id = e.job_id
$$;
COMMENT ON FUNCTION export_json(exports) IS 'API representation of an export, without downloadUrl (the API adds it, signed, when ready).';

------------------------------------------------------------------------------
-- spreadsheet safety
------------------------------------------------------------------------------
-- OWASP "CSV injection": a cell that starts with = + - @ tab or carriage
-- return is a formula to a spreadsheet program; a leading ' makes it text.
CREATE FUNCTION csv_safe(v text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN left(v, 1) IN ('=', '+', '-', '@', E'\t', E'\r') THEN '''' || v ELSE v END
$$;
COMMENT ON FUNCTION csv_safe(text) IS 'v with a leading '' when it starts with = + - @ tab or CR (a formula to a spreadsheet); export functions apply it to every text cell of a CSV export.';

-- csv_safe when p_csv, else v: the export functions' text cells.
CREATE FUNCTION export_text(p_csv boolean, v text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN p_csv THEN csv_safe(v) ELSE v END
$$;
COMMENT ON FUNCTION export_text(boolean, text) IS 'csv_safe(v) for CSV exports, v as it is for JSON ones.';

------------------------------------------------------------------------------
-- what each kind exports: one function per kind, (owner, filters, csv).
-- Plain SQL, STABLE, not STRICT: the planner inlines them into the COPY's
-- query, so the owner and filters reach the indexes. The filters were
-- validated by the API (src/api/exports.c): keys are known, ids are UUIDs,
-- from/to are RFC 3339 timestamps. Rows come in a stable order.
------------------------------------------------------------------------------
CREATE FUNCTION export_campaigns(p_user uuid, p_filters jsonb, p_csv boolean)
RETURNS TABLE (id uuid, name text, description text, objective text, status text, budget numeric,
               currency text, start_date date, end_date date, tone text, keywords text, persona_id uuid,
               content_items int, created_at timestamptz, updated_at timestamptz)
LANGUAGE sql STABLE AS $$
    SELECT c.id, export_text(p_csv, c.name), export_text(p_csv, c.description), c.objective, c.status,
           c.budget, c.currency, c.start_date, c.end_date, export_text(p_csv, c.tone),
           export_text(p_csv, c.keywords), c.persona_id, jsonb_array_length(c.content), c.created_at, c.updated_at
      FROM campaigns c
     WHERE c.user_id = p_user
       AND (p_filters->>'status' IS NULL OR c.status = p_filters->>'status')
       AND (p_filters->>'objective' IS NULL OR c.objective = p_filters->>'objective')
       AND (p_filters->>'from' IS NULL OR c.created_at >= (p_filters->>'from')::timestamptz)
       AND (p_filters->>'to' IS NULL OR c.created_at < (p_filters->>'to')::timestamptz)
     ORDER BY c.created_at, c.id
$$;
COMMENT ON FUNCTION export_campaigns(uuid, jsonb, boolean) IS 'Export kind campaigns: the owner''s campaigns (filters status, objective, from, to on created_at).';

CREATE FUNCTION export_content(p_user uuid, p_filters jsonb, p_csv boolean)
RETURNS TABLE (campaign_id uuid, campaign_name text, content_id uuid, "position" int, content_type text,
               platform text, subject_line text, content_body text, call_to_action text, hashtags text,
               quality_score int, generated_by text, model text, created_at timestamptz, updated_at timestamptz)
LANGUAGE sql STABLE AS $$
    SELECT v.campaign_id, export_text(p_csv, v.campaign_name), v.content_id, v.position, v.content_type,
           v.platform, export_text(p_csv, v.subject_line), export_text(p_csv, v.content_body),
           export_text(p_csv, v.call_to_action), export_text(p_csv, array_to_string(v.hashtags, ' ')),
           v.quality_score, v.generated_by, export_text(p_csv, v.model), v.created_at, v.updated_at
      FROM campaign_content v
     WHERE v.user_id = p_user
       AND (p_filters->>'campaignId' IS NULL OR v.campaign_id = (p_filters->>'campaignId')::uuid)
       AND (p_filters->>'contentType' IS NULL OR v.content_type = p_filters->>'contentType')
       AND (p_filters->>'platform' IS NULL OR v.platform = p_filters->>'platform')
       AND (p_filters->>'from' IS NULL OR v.created_at >= (p_filters->>'from')::timestamptz)
       AND (p_filters->>'to' IS NULL OR v.created_at < (p_filters->>'to')::timestamptz)
     ORDER BY v.campaign_id, v.position
$$;
COMMENT ON FUNCTION export_content(uuid, jsonb, boolean) IS 'Export kind content: one row per content item (campaign_content; filters campaignId, contentType, platform, from, to on the item''s created_at).';

CREATE FUNCTION export_contacts(p_user uuid, p_filters jsonb, p_csv boolean)
RETURNS TABLE (id uuid, email text, first_name text, last_name text, status text, attributes jsonb,
               consent_source text, consent_at timestamptz, created_at timestamptz, updated_at timestamptz)
LANGUAGE sql STABLE AS $$
    SELECT c.id, export_text(p_csv, c.email), export_text(p_csv, c.first_name), export_text(p_csv, c.last_name),
           c.status, c.attributes, export_text(p_csv, c.consent_source), c.consent_at, c.created_at, c.updated_at
      FROM contacts c
     WHERE c.user_id = p_user
       AND (p_filters->>'status' IS NULL OR c.status = p_filters->>'status')
       AND (p_filters->>'listId' IS NULL OR EXISTS (SELECT FROM list_members m
            WHERE m.list_id = (p_filters->>'listId')::uuid AND m.contact_id = c.id AND m.user_id = p_user))
     ORDER BY c.created_at, c.id
$$;
COMMENT ON FUNCTION export_contacts(uuid, jsonb, boolean) IS 'Export kind contacts: the owner''s contacts (filters status, listId).';

CREATE FUNCTION export_sends(p_user uuid, p_filters jsonb, p_csv boolean)
RETURNS TABLE (send_id uuid, campaign_id uuid, content_id uuid, contact_id uuid, email text, status text,
               attempts int, last_error text, sent_at timestamptz, message_id text, created_at timestamptz)
LANGUAGE sql STABLE AS $$
    SELECT r.send_id, s.campaign_id, s.content_id, r.contact_id, export_text(p_csv, r.email), r.status,
           r.attempts, export_text(p_csv, r.last_error), r.sent_at, export_text(p_csv, r.message_id), r.created_at
      FROM sends s
      JOIN send_recipients r ON r.send_id = s.id
     WHERE s.user_id = p_user
       AND (p_filters->>'campaignId' IS NULL OR s.campaign_id = (p_filters->>'campaignId')::uuid)
       AND (p_filters->>'sendId' IS NULL OR s.id = (p_filters->>'sendId')::uuid)
       AND (p_filters->>'status' IS NULL OR r.status = p_filters->>'status')
     ORDER BY s.created_at, s.id, r.created_at, r.contact_id
$$;
COMMENT ON FUNCTION export_sends(uuid, jsonb, boolean) IS 'Export kind sends: one row per recipient of the owner''s sends (filters campaignId, sendId, status of the recipient).';

CREATE FUNCTION export_usage(p_user uuid, p_filters jsonb, p_csv boolean)
RETURNS TABLE (created_at timestamptz, campaign_id uuid, job_id uuid, provider text, model text,
               content_type text, platform text, purpose text, prompt_tokens int, completion_tokens int,
               cost numeric, currency text, latency_ms int, outcome text)
LANGUAGE sql STABLE AS $$
    SELECT u.created_at, u.campaign_id, u.job_id, u.provider, export_text(p_csv, u.model), u.content_type,
           u.platform, u.purpose, u.prompt_tokens, u.completion_tokens, u.cost, u.currency, u.latency_ms, u.outcome
      FROM llm_usage u
     WHERE u.user_id = p_user
       AND (p_filters->>'campaignId' IS NULL OR u.campaign_id = (p_filters->>'campaignId')::uuid)
       AND (p_filters->>'from' IS NULL OR u.created_at >= (p_filters->>'from')::timestamptz)
       AND (p_filters->>'to' IS NULL OR u.created_at < (p_filters->>'to')::timestamptz)
     ORDER BY u.created_at, u.id
$$;
COMMENT ON FUNCTION export_usage(uuid, jsonb, boolean) IS 'Export kind usage: the owner''s generation calls (llm_usage; filters campaignId, from, to).';

-- analytics_daily / analytics_hourly are sql/0015_analytics.sql's rollups (interface A).
CREATE FUNCTION export_analytics(p_user uuid, p_filters jsonb, p_csv boolean)
RETURNS TABLE (bucket timestamptz, campaign_id uuid, content_id uuid, variant text, platform text,
               impressions bigint, opens bigint, unique_opens bigint, clicks bigint, unique_clicks bigint,
               conversions bigint, spend numeric, revenue numeric)
LANGUAGE sql STABLE AS $$
    SELECT r.bucket, r.campaign_id, r.content_id, export_text(p_csv, r.variant), r.platform,
           r.impressions, r.opens, r.unique_opens, r.clicks, r.unique_clicks, r.conversions, r.spend, r.revenue
      FROM (SELECT d.* FROM analytics_daily d WHERE coalesce(p_filters->>'interval', 'day') = 'day'
            UNION ALL
            SELECT h.* FROM analytics_hourly h WHERE p_filters->>'interval' = 'hour') AS r
     WHERE r.user_id = p_user
       AND (p_filters->>'campaignId' IS NULL OR r.campaign_id = (p_filters->>'campaignId')::uuid)
       AND (p_filters->>'from' IS NULL OR r.bucket >= (p_filters->>'from')::timestamptz)
       AND (p_filters->>'to' IS NULL OR r.bucket < (p_filters->>'to')::timestamptz)
     ORDER BY r.bucket, r.campaign_id, r.content_id NULLS FIRST, r.variant NULLS FIRST, r.platform NULLS FIRST
$$;
COMMENT ON FUNCTION export_analytics(uuid, jsonb, boolean) IS 'Export kind analytics: the owner''s rollups, one row per (bucket, campaign, content item, variant, platform): analytics_daily, or analytics_hourly with filters.interval = hour (filters campaignId, from, to on bucket).';

-- The total of an export's progress events, read before its COPY. Exact
-- (a count of export_<kind>()) for every kind but content, whose rows come
-- from expanding every campaign's JSONB array: counting them, or even
-- jsonb_array_length(), would detoast every array, nearly the cost of the
-- export itself. For content it is summed from the stored content_tally
-- (0006) of the matching campaigns: exact for the campaignId, contentType
-- and platform filters alone, an upper bound when both contentType and
-- platform, or from/to, narrow it (the job reports the real count at the end).
CREATE FUNCTION export_rows_estimate(p_kind text, p_user uuid, p_filters jsonb) RETURNS bigint
LANGUAGE plpgsql STABLE AS $$
BEGIN
    IF p_kind = 'content' THEN
        RETURN (SELECT coalesce(sum(least(
                           (c.content_tally->>'total')::bigint,
                           (c.content_tally->>(p_filters->>'contentType'))::bigint,
                           (c.content_tally->>(CASE p_filters->>'platform' WHEN 'email' THEN 'p_email'
                                                   ELSE p_filters->>'platform' END))::bigint)), 0)
                  FROM campaigns c
                 WHERE c.user_id = p_user
                   AND (p_filters->>'campaignId' IS NULL OR c.id = (p_filters->>'campaignId')::uuid));
    END IF;
    RETURN CASE p_kind
        WHEN 'campaigns' THEN (SELECT count(*) FROM export_campaigns(p_user, p_filters, false))
        WHEN 'contacts' THEN (SELECT count(*) FROM export_contacts(p_user, p_filters, false))
        WHEN 'sends' THEN (SELECT count(*) FROM export_sends(p_user, p_filters, false))
        WHEN 'analytics' THEN (SELECT count(*) FROM export_analytics(p_user, p_filters, false))
        WHEN 'usage' THEN (SELECT count(*) FROM export_usage(p_user, p_filters, false))
    END;
END
$$;
COMMENT ON FUNCTION export_rows_estimate(text, uuid, jsonb) IS 'The row count an export job announces as its progress total: exact, except for kind content with from/to or with both contentType and platform (then an upper bound from the campaigns'' content_tally).';

------------------------------------------------------------------------------
-- expiry (the worker's periodic sweep)
------------------------------------------------------------------------------
-- Marks up to p_limit ready exports past expires_at expired and returns their
-- file names for the caller to delete. Workers sweep concurrently: SKIP LOCKED
-- hands each row to one of them.
CREATE FUNCTION exports_expire(p_limit integer) RETURNS TABLE (id uuid, file_name text)
LANGUAGE sql AS $$
    WITH due AS (
        SELECT e.id, e.file_name FROM exports e
         WHERE e.status = 'ready' AND e.expires_at <= now()
         ORDER BY e.expires_at
         LIMIT p_limit
           FOR UPDATE SKIP LOCKED),
    done AS (
        UPDATE exports e SET status = 'expired', file_name = NULL, updated_at = now()
          FROM due WHERE e.id = due.id
        RETURNING e.id)
    SELECT due.id, due.file_name FROM due JOIN done USING (id)
$$;
COMMENT ON FUNCTION exports_expire(integer) IS 'The worker''s sweep: marks up to p_limit ready exports past expires_at expired; returns (id, file_name) of each, whose file the caller deletes.';

------------------------------------------------------------------------------
-- grants
------------------------------------------------------------------------------
GRANT SELECT, INSERT, DELETE ON exports TO adcraft_api;          -- create, list, delete (RETURNING reads it)
GRANT SELECT, UPDATE ON exports TO adcraft_worker;               -- the job and the expiry sweep
GRANT SELECT ON exports TO adcraft_analyst;
-- what the export functions read, as the worker
GRANT SELECT ON campaign_content TO adcraft_worker;  -- the rest (contacts, sends, llm_usage, analytics_*): already
REVOKE EXECUTE ON FUNCTION exports_expire(integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION exports_expire(integer) TO adcraft_worker;
