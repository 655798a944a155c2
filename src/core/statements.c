/*
 * statements.c - the prepared statement table.
 *
 * Rows come back shaped for the API (json built by PostgreSQL), so handlers
 * pass them through instead of rebuilding them in C.
 */
#include "statements.h"

const struct stmt_def statements[STMT__COUNT] = {
	[STMT_HEALTH] = { "health", "SELECT 1", 0 },

	/* $1 email, $2 name, $3 password hash, $4 refresh token, $5 refresh ttl (s).
	 * Inserts the user and its first refresh token atomically; no row when the
	 * email is taken. */
	[STMT_USER_REGISTER] = { "user_register",
		"WITH u AS ("
		"  INSERT INTO users (email, name, password_hash) VALUES ($1, $2, $3)"
		"  ON CONFLICT ((lower(email))) DO NOTHING"
		"  RETURNING *"
		"), t AS ("
		"  INSERT INTO refresh_tokens (user_id, family_id, token_hash, expires_at)"
		"  SELECT u.id, gen_random_uuid(), token_digest($4), now() + make_interval(secs => $5::int)"
		"  FROM u"
		") SELECT u.id, user_json(u) FROM u", 5 },

	/* $1 email */
	[STMT_USER_BY_EMAIL] = { "user_by_email",
		"SELECT u.id, u.password_hash, user_json(u) FROM users u WHERE lower(u.email) = lower($1)", 1 },

	/* $1 user id */
	[STMT_USER_BY_ID] = { "user_by_id",
		"SELECT user_json(u) FROM users u WHERE u.id = $1::uuid", 1 },

	/* $1 user id, $2 refresh token, $3 ttl (s): a new family (a login). */
	[STMT_REFRESH_ISSUE] = { "refresh_issue",
		"INSERT INTO refresh_tokens (user_id, family_id, token_hash, expires_at)"
		" VALUES ($1::uuid, gen_random_uuid(), token_digest($2), now() + make_interval(secs => $3::int))", 3 },

	/* $1 presented token, $2 new token, $3 ttl (s) */
	[STMT_REFRESH_ROTATE] = { "refresh_rotate",
		"SELECT outcome, user_id, user_json FROM auth_rotate_refresh($1, $2, $3::int)", 3 },

	/* $1 token, $2 user id: logout ends the token's whole family (the session). */
	[STMT_REFRESH_REVOKE] = { "refresh_revoke",
		"UPDATE refresh_tokens SET revoked_at = now()"
		" WHERE revoked_at IS NULL AND family_id = ("
		"   SELECT family_id FROM refresh_tokens WHERE token_hash = token_digest($1) AND user_id = $2::uuid)", 2 },

	/* ---- personas: $n body is the validated request body as jsonb ---- */

	/* $1 user, $2 body */
	[STMT_PERSONA_INSERT] = { "persona_insert",
		"INSERT INTO personas AS p (user_id, name, description, age_range, gender, location, occupation,"
		"                           interests, pain_points, goals, preferred_channels)"
		" SELECT $1::uuid, b->>'name', coalesce(b->>'description', ''), b->>'ageRange', b->>'gender',"
		"        b->>'location', b->>'occupation',"
		"        coalesce(jsonb_text_array(b->'interests'), '{}'), coalesce(jsonb_text_array(b->'painPoints'), '{}'),"
		"        coalesce(jsonb_text_array(b->'goals'), '{}'), coalesce(jsonb_text_array(b->'preferredChannels'), '{}')"
		" FROM (SELECT $2::jsonb AS b) AS input"
		" RETURNING persona_json(p)", 2 },

	/* $1 user, $2 after created_at, $3 after id, $4 limit + 1 rows */
	[STMT_PERSONA_LIST] = { "persona_list",
		"SELECT persona_json(p), p.created_at::text, p.id FROM personas p"
		" WHERE p.user_id = $1::uuid"
		"   AND ($2::timestamptz IS NULL OR (p.created_at, p.id) < ($2::timestamptz, $3::uuid))"
		" ORDER BY p.created_at DESC, p.id DESC LIMIT $4::int + 1", 4 },

	/* $1 user, $2 persona */
	[STMT_PERSONA_GET] = { "persona_get",
		"SELECT persona_json(p) FROM personas p WHERE p.id = $2::uuid AND p.user_id = $1::uuid", 2 },

	/* $1 user, $2 persona, $3 body, $4 replace (PUT: absent fields reset; PATCH: absent fields kept) */
	[STMT_PERSONA_UPDATE] = { "persona_update",
		"UPDATE personas p SET"
		"  name = CASE WHEN $4 OR b ? 'name' THEN b->>'name' ELSE p.name END,"
		"  description = CASE WHEN $4 OR b ? 'description' THEN coalesce(b->>'description', '') ELSE p.description END,"
		"  age_range = CASE WHEN $4 OR b ? 'ageRange' THEN b->>'ageRange' ELSE p.age_range END,"
		"  gender = CASE WHEN $4 OR b ? 'gender' THEN b->>'gender' ELSE p.gender END,"
		"  location = CASE WHEN $4 OR b ? 'location' THEN b->>'location' ELSE p.location END,"
		"  occupation = CASE WHEN $4 OR b ? 'occupation' THEN b->>'occupation' ELSE p.occupation END,"
		"  interests = CASE WHEN $4 OR b ? 'interests' THEN coalesce(jsonb_text_array(b->'interests'), '{}') ELSE p.interests END,"
		"  pain_points = CASE WHEN $4 OR b ? 'painPoints' THEN coalesce(jsonb_text_array(b->'painPoints'), '{}') ELSE p.pain_points END,"
		"  goals = CASE WHEN $4 OR b ? 'goals' THEN coalesce(jsonb_text_array(b->'goals'), '{}') ELSE p.goals END,"
		"  preferred_channels = CASE WHEN $4 OR b ? 'preferredChannels'"
		"    THEN coalesce(jsonb_text_array(b->'preferredChannels'), '{}') ELSE p.preferred_channels END,"
		"  updated_at = now()"
		" FROM (SELECT $3::jsonb AS b) AS input"
		" WHERE p.id = $2::uuid AND p.user_id = $1::uuid"
		" RETURNING persona_json(p)", 4 },

	/* $1 user, $2 persona */
	[STMT_PERSONA_DELETE] = { "persona_delete",
		"DELETE FROM personas WHERE id = $2::uuid AND user_id = $1::uuid", 2 },

	/* ---- campaigns ---- */

	/* $1 user, $2 body. A campaign just inserted has no ab_tests rows: its abTests are the
	 * written ones (campaign_json(c) would plan campaign_ab_tests' body on every call). */
	[STMT_CAMPAIGN_INSERT] = { "campaign_insert",
		"INSERT INTO campaigns AS c (user_id, persona_id, brand_profile_id, name, product, description, objective,"
		"                            budget, currency, start_date, end_date, tone, keywords, ab_tests,"
		"                            generation_settings)"
		" SELECT $1::uuid, (b->>'personaId')::uuid, (b->>'brandProfileId')::uuid, b->>'name', b->>'product',"
		"        coalesce(b->>'description', ''), b->>'objective',"
		"        (b->>'budget')::numeric, coalesce(b->>'currency', 'USD'), (b->>'startDate')::date,"
		"        (b->>'endDate')::date, b->>'tone', b->>'keywords', '[]',"
		"        coalesce(nullif(b->'generationSettings', 'null'), '{}')"
		" FROM (SELECT $2::jsonb AS b) AS input"
		" RETURNING campaign_text(c, c.ab_tests)", 2 },

	/*
	 * Lists: one statement per filter shape, so that each generic plan walks
	 * the index that matches its shape in list order and stops after a page
	 * (one statement with "$n IS NULL OR" filters got one generic plan for
	 * every shape: the owner's rows sorted, 163 ms for a page of 10k). The
	 * keyset position is an index condition; the first page starts above
	 * every row ('infinity', max uuid). A row's ab_tests rows are its
	 * ab_test_rows column (sql/0033; before, a subquery per row). A row's
	 * JSON is its stored json_head plus the two counts: nothing is
	 * built per row (sql/0027_campaign_json_head.sql).
	 */
/* campaign c's list representation; ab_test_rows counts its ab_tests rows (sql/0033) */
#define CAMPAIGN_SUMMARY_TEXT "campaign_summary_text(c, c.ab_test_rows)"
#define CAMPAIGN_LIST_SELECT                                                                                  \
	"SELECT " CAMPAIGN_SUMMARY_TEXT ", c.created_at::text, c.id FROM campaigns c WHERE c.user_id = $1::uuid"
#define CAMPAIGN_LIST_PAGE(ts, id, limit)                                                                     \
	"   AND (c.created_at, c.id) < (coalesce(" ts "::timestamptz, 'infinity'),"                              \
	"                               coalesce(" id "::uuid, 'ffffffff-ffff-ffff-ffff-ffffffffffff'))"         \
	" ORDER BY c.created_at DESC, c.id DESC LIMIT " limit "::int + 1"

	/* $1 user, $2/$3 after, $4 limit */
	[STMT_CAMPAIGN_LIST] = { "campaign_list", CAMPAIGN_LIST_SELECT CAMPAIGN_LIST_PAGE("$2", "$3", "$4"), 4 },
	/* $1 user, $2 status, $3/$4 after, $5 limit */
	[STMT_CAMPAIGN_LIST_STATUS] = { "campaign_list_status",
		CAMPAIGN_LIST_SELECT " AND c.status = $2" CAMPAIGN_LIST_PAGE("$3", "$4", "$5"), 5 },
	/* $1 user, $2 objective, $3/$4 after, $5 limit */
	[STMT_CAMPAIGN_LIST_OBJECTIVE] = { "campaign_list_objective",
		CAMPAIGN_LIST_SELECT " AND c.objective = $2" CAMPAIGN_LIST_PAGE("$3", "$4", "$5"), 5 },
	/* $1 user, $2 persona, $3/$4 after, $5 limit */
	[STMT_CAMPAIGN_LIST_PERSONA] = { "campaign_list_persona",
		CAMPAIGN_LIST_SELECT " AND c.persona_id = $2::uuid" CAMPAIGN_LIST_PAGE("$3", "$4", "$5"), 5 },
	/* Any other shape (a name search, several filters): $1 user, $2 status, $3 objective, $4 persona,
	 * $5 name search, $6/$7 after, $8 limit */
	[STMT_CAMPAIGN_LIST_FILTERED] = { "campaign_list_filtered",
		CAMPAIGN_LIST_SELECT
		"   AND ($2::text IS NULL OR c.status = $2)"
		"   AND ($3::text IS NULL OR c.objective = $3)"
		"   AND ($4::uuid IS NULL OR c.persona_id = $4::uuid)"
		"   AND ($5::text IS NULL OR c.name ILIKE '%' || like_escape($5) || '%')"
		CAMPAIGN_LIST_PAGE("$6", "$7", "$8"), 8 },

	/* $1 user, $2 campaign. One index scan, no subplan: campaign_ab_tests_doc (inlined)
	 * renders the abTests list only when the campaign's ab_test_rows says it has ab_tests rows
	 * (sql/0033; a probe of ab_tests before), and campaign_document reads the stored json_head
	 * and content_items (sql/0027, sql/0029): nothing is rendered here. */
	[STMT_CAMPAIGN_GET] = { "campaign_get",
		"SELECT campaign_document(c, campaign_ab_tests_doc(c)) FROM campaigns c"
		" WHERE c.id = $2::uuid AND c.user_id = $1::uuid", 2 },

	/* $1 user, $2 campaign, $3 body, $4 replace. A status change must be a client move in
	 * campaign_status_transitions; otherwise no row is updated (the handler says 404 or 409). */
	[STMT_CAMPAIGN_UPDATE] = { "campaign_update",
		"UPDATE campaigns c SET"
		"  name = CASE WHEN $4 OR b ? 'name' THEN b->>'name' ELSE c.name END,"
		"  product = CASE WHEN $4 OR b ? 'product' THEN b->>'product' ELSE c.product END,"
		"  description = CASE WHEN $4 OR b ? 'description' THEN coalesce(b->>'description', '') ELSE c.description END,"
		"  objective = CASE WHEN $4 OR b ? 'objective' THEN b->>'objective' ELSE c.objective END,"
		"  persona_id = CASE WHEN $4 OR b ? 'personaId' THEN (b->>'personaId')::uuid ELSE c.persona_id END,"
		"  brand_profile_id = CASE WHEN $4 OR b ? 'brandProfileId' THEN (b->>'brandProfileId')::uuid"
		"    ELSE c.brand_profile_id END,"
		"  budget = CASE WHEN $4 OR b ? 'budget' THEN (b->>'budget')::numeric ELSE c.budget END,"
		"  currency = CASE WHEN $4 OR b ? 'currency' THEN coalesce(b->>'currency', 'USD') ELSE c.currency END,"
		"  start_date = CASE WHEN $4 OR b ? 'startDate' THEN (b->>'startDate')::date ELSE c.start_date END,"
		"  end_date = CASE WHEN $4 OR b ? 'endDate' THEN (b->>'endDate')::date ELSE c.end_date END,"
		"  tone = CASE WHEN $4 OR b ? 'tone' THEN b->>'tone' ELSE c.tone END,"
		"  keywords = CASE WHEN $4 OR b ? 'keywords' THEN b->>'keywords' ELSE c.keywords END,"
		"  generation_settings = CASE WHEN $4 OR b ? 'generationSettings'"
		"    THEN coalesce(nullif(b->'generationSettings', 'null'), '{}') ELSE c.generation_settings END,"
		"  status = coalesce(b->>'status', c.status),"
		"  updated_at = now()"
		" FROM (SELECT $3::jsonb AS b) AS input"
		" WHERE c.id = $2::uuid AND c.user_id = $1::uuid"
		"   AND (b->>'status' IS NULL OR b->>'status' = c.status OR EXISTS ("
		"        SELECT FROM campaign_status_transitions t"
		"         WHERE t.from_status = c.status AND t.to_status = b->>'status' AND t.actor = 'client'))"
		" RETURNING campaign_json(c)", 4 },

	/* $1 user, $2 campaign: why an update matched nothing */
	[STMT_CAMPAIGN_STATUS] = { "campaign_status",
		"SELECT status FROM campaigns WHERE id = $2::uuid AND user_id = $1::uuid", 2 },

	/* $1 user, $2 campaign */
	/* The campaign's live jobs are locked first: a job locks its row, then the campaign's, to store
	 * an item (job_append_item), and a job that ends releases its campaign the same way round
	 * (jobs_release_campaign); a delete that took the campaign first and reached the job through
	 * the cascade deadlocked against a job storing an item. */
	[STMT_CAMPAIGN_DELETE] = { "campaign_delete",
		"WITH live AS MATERIALIZED (SELECT id FROM jobs WHERE campaign_id = $2::uuid AND state IN ('queued', 'running')"
		"                           FOR UPDATE)"
		"DELETE FROM campaigns WHERE id = $2::uuid AND user_id = $1::uuid AND (SELECT count(*) FROM live) >= 0", 2 },

	/* $1 user. campaign_stats_of() is inlined: the summary is read and its JSON text written in
	 * this plan (sql/0038) */
	[STMT_CAMPAIGN_STATS] = { "campaign_stats", "SELECT s.stats FROM campaign_stats_of($1::uuid) AS s (stats)", 1 },

	/* ---- content items ---- */

	/* $1 user, $2 campaign, $3 content id or NULL: scoring context, the current item, the product and the
	 * campaign's brand profile (NULL when none) */
	[STMT_CONTENT_CONTEXT] = { "content_context",
		"SELECT c.keywords, coalesce(to_json(p.interests || p.pain_points || p.goals), '[]'),"
		"       (SELECT e FROM jsonb_array_elements(c.content) e WHERE e->>'id' = $3), c.product,"
		"       CASE WHEN bp.id IS NOT NULL THEN brand_profile_json(bp) END"
		"  FROM campaigns c LEFT JOIN personas p ON p.id = c.persona_id"
		"       LEFT JOIN brand_profiles bp ON bp.id = c.brand_profile_id"
		" WHERE c.id = $2::uuid AND c.user_id = $1::uuid", 3 },

	/* $1 user, $2 campaign, $3 item without id and timestamps */
	[STMT_CONTENT_APPEND] = { "content_append",
		"WITH item AS (SELECT jsonb_set($3::jsonb, '{metadata,generatedAt}', to_jsonb(rfc3339(now())))"
		"                || jsonb_build_object('id', gen_random_uuid(),"
		"                   'createdAt', rfc3339(now()), 'updatedAt', rfc3339(now())) AS e)"
		"UPDATE campaigns c SET content = c.content || jsonb_build_array(item.e), updated_at = now()"
		"  FROM item WHERE c.id = $2::uuid AND c.user_id = $1::uuid"
		" RETURNING item.e", 3 },

	/* $1 user, $2 campaign, $3 content id, $4 the item as read, $5 the new item.
	 * Optimistic: matches only while the item is still exactly $4. */
	[STMT_CONTENT_REPLACE] = { "content_replace",
		"WITH item AS (SELECT $5::jsonb || jsonb_build_object('updatedAt', rfc3339(now())) AS e)"
		"UPDATE campaigns c SET updated_at = now(),"
		"  content = (SELECT jsonb_agg(CASE WHEN t.e->>'id' = $3 THEN item.e ELSE t.e END ORDER BY t.n)"
		"               FROM jsonb_array_elements(c.content) WITH ORDINALITY AS t(e, n))"
		"  FROM item WHERE c.id = $2::uuid AND c.user_id = $1::uuid AND c.content @> jsonb_build_array($4::jsonb)"
		" RETURNING item.e", 5 },

	/* $1 user, $2 campaign, $3 content id */
	[STMT_CONTENT_DELETE] = { "content_delete",
		"UPDATE campaigns c SET updated_at = now(),"
		"  content = coalesce((SELECT jsonb_agg(e ORDER BY n) FROM jsonb_array_elements(c.content)"
		"                      WITH ORDINALITY AS t(e, n) WHERE e->>'id' <> $3), '[]')"
		" WHERE c.id = $2::uuid AND c.user_id = $1::uuid"
		"   AND c.content @> jsonb_build_array(jsonb_build_object('id', $3::text))", 3 },

	/* ---- job queue: worker side ---- */

	/* $1 worker id, $2 [{id, attempt, outcome, result, error}] of the batch just run ("[]" when
	 * none; outcome completed | failed | retry | release | cancelled), $3 queues (text[] literal),
	 * $4 how many to claim (0: finish only): finishes batch N and claims batch N+1 in one round
	 * trip and one commit (sql/0022_jobs_hot.sql). Finishing is fenced on (locked_by, attempt). */
	[STMT_JOB_FINISH_CLAIM] = { "job_finish_claim",
		"SELECT id, queue, kind, payload, attempts, max_attempts, user_id, campaign_id"
		"  FROM job_finish_claim($1, $2::jsonb, $3::text[], $4::int)", 4 },

	/* $1 worker, $2 job, $3 attempt, $4 done, $5 total: false when the job is no longer ours */
	[STMT_JOB_PROGRESS] = { "job_progress",
		"UPDATE jobs SET heartbeat_at = now(), progress = jsonb_build_object('done', $4::int, 'total', $5::int,"
		"       'percent', CASE WHEN $5::int > 0 THEN round(100.0 * $4::int / $5::int) ELSE 0 END)"
		" WHERE id = $2::uuid AND attempts = $3::int AND locked_by = $1 AND state = 'running'"
		" RETURNING id", 5 },

	/* $1 worker id, $2 hostname, $3 pid, $4 jobs done, $5 the jobs of the batch in hand (uuid[]):
	 * our row, and which of those jobs are still ours. Only the batch in hand is kept alive, so a
	 * job whose completion was lost (say, the database restarted) goes stale and is rescued. */
	[STMT_JOB_HEARTBEAT] = { "job_heartbeat",
		"WITH w AS (INSERT INTO workers (id, hostname, pid, jobs_done) VALUES ($1, $2, $3::int, $4::bigint)"
		"           ON CONFLICT (id) DO UPDATE SET heartbeat_at = now(), jobs_done = EXCLUDED.jobs_done)"
		"UPDATE jobs SET heartbeat_at = now()"
		" WHERE id = ANY($5::uuid[]) AND locked_by = $1 AND state = 'running' RETURNING id", 5 },

	/* $1 stale seconds: running jobs whose worker went quiet go back to the queue */
	[STMT_JOB_RESCUE] = { "job_rescue",
		"UPDATE jobs SET state = CASE WHEN attempts >= max_attempts THEN 'failed' ELSE 'queued' END,"
		"       finished_at = CASE WHEN attempts >= max_attempts THEN now() END,"
		"       run_at = now(), locked_by = NULL, heartbeat_at = NULL,"
		"       last_error = format('worker %s stopped heartbeating during attempt %s', locked_by, attempts)"
		" WHERE state = 'running' AND heartbeat_at < now() - make_interval(secs => $1::int)"
		" RETURNING id, state", 1 },

	/* $1 retention days: finished jobs past retention, a bounded batch at a time */
	[STMT_JOB_PRUNE] = { "job_prune",
		"DELETE FROM jobs WHERE id IN (SELECT id FROM jobs"
		"  WHERE finished_at < now() - make_interval(days => $1::int) LIMIT 5000)", 1 },

	/* $1 queues: seconds until the next scheduled job is due (NULL when none) */
	[STMT_JOB_NEXT_DUE] = { "job_next_due",
		"SELECT extract(epoch FROM (SELECT run_at FROM jobs WHERE state = 'queued' AND queue = ANY($1::text[])"
		"                           ORDER BY run_at LIMIT 1) - now())", 1 },

	/* $1 worker id, $2 jobs done */
	[STMT_WORKER_STOPPED] = { "worker_stopped",
		"UPDATE workers SET stopped_at = now(), heartbeat_at = now(), jobs_done = $2::bigint WHERE id = $1", 2 },

	/* ---- job queue: API side ---- */

	/* $1 user, $2 queue, $3 job */
	[STMT_JOB_GET] = { "job_get",
		"SELECT job_json(j) FROM jobs j WHERE j.id = $3::uuid AND j.queue = $2 AND j.user_id = $1::uuid", 3 },

	/* $1 user, $2/$3 after, $4 limit */
	[STMT_JOB_RECENT] = { "job_recent",
		"SELECT job_json(j), j.created_at::text, j.id FROM jobs j"
		" WHERE j.user_id = $1::uuid"
		"   AND ($2::timestamptz IS NULL OR (j.created_at, j.id) < ($2::timestamptz, $3::uuid))"
		" ORDER BY j.created_at DESC, j.id DESC LIMIT $4::int + 1", 4 },

	/* $1 user, $2 queue, $3 job: queued or running jobs end now; a running one's worker hears
	 * adcraft_cancel (trigger) and stops its work */
	[STMT_JOB_CANCEL] = { "job_cancel",
		"UPDATE jobs j SET state = 'cancelled', finished_at = now(), locked_by = NULL, heartbeat_at = NULL,"
		"       last_error = 'cancelled by its owner'"
		" WHERE j.id = $3::uuid AND j.queue = $2 AND j.user_id = $1::uuid AND j.state IN ('queued', 'running')"
		" RETURNING job_json(j)", 3 },

	/* $1 user, $2 queue, $3 job */
	[STMT_JOB_STATE] = { "job_state",
		"SELECT state FROM jobs WHERE id = $3::uuid AND queue = $2 AND user_id = $1::uuid", 3 },

	[STMT_JOB_QUEUE_STATUS] = { "job_queue_status",
		"SELECT coalesce(json_agg(json_build_object('name', queue, 'queued', queued, 'running', running,"
		"       'completed', completed, 'failed', failed, 'cancelled', cancelled,"
		"       'oldestQueuedSeconds', oldest_queued_seconds) ORDER BY queue), '[]')"
		"  FROM job_queue_status", 0 },

	/* $1 stale seconds */
	[STMT_JOB_WORKERS] = { "job_workers",
		"SELECT coalesce(json_agg(json_build_object('id', id, 'hostname', hostname, 'pid', pid,"
		"       'startedAt', rfc3339(started_at), 'heartbeatAt', rfc3339(heartbeat_at), 'jobsDone', jobs_done,"
		"       'alive', stopped_at IS NULL AND heartbeat_at > now() - make_interval(secs => $1::int))"
		"       ORDER BY started_at DESC), '[]'),"
		"       coalesce(bool_or(stopped_at IS NULL AND heartbeat_at > now() - make_interval(secs => $1::int)), false)"
		"  FROM workers WHERE coalesce(stopped_at, heartbeat_at) > now() - interval '1 hour'", 1 },

	/* $1 user, $2 campaign, $3 kind, $4 payload, $5 idempotency key: the campaign becomes
	 * "generating" and the job is queued in one statement, or neither happens. A repeated key
	 * returns the job it created (third column false) and touches nothing; the fourth column
	 * says whether that job is of this kind and campaign (a key reused for another request). */
	[STMT_JOB_ENQUEUE_GENERATION] = { "job_enqueue_generation",
		"WITH earlier AS ("
		"  SELECT * FROM jobs WHERE $5::text IS NOT NULL AND user_id = $1::uuid AND idempotency_key = $5),"
		" c AS ("
		"  UPDATE campaigns SET status = 'generating', status_before_generation = status, updated_at = now()"
		"   WHERE id = $2::uuid AND user_id = $1::uuid AND status <> 'generating' AND NOT EXISTS (SELECT FROM earlier)"
		"  RETURNING id),"
		" j AS ("
		"  INSERT INTO jobs (queue, kind, payload, user_id, campaign_id, max_attempts, idempotency_key)"
		"  SELECT 'content-generation', $3, $4::jsonb, $1::uuid, c.id, 3, $5 FROM c"
		"  RETURNING *)"
		"SELECT job_json(j), j.id, true, true FROM j"
		" UNION ALL SELECT job_json(e), e.id, false, e.campaign_id IS NOT DISTINCT FROM $2::uuid AND e.kind = $3"
		"   FROM earlier e", 5 },

	/* $1 user: stats plus the recent and the live, as one JSON text spliced from its parts: the
	 * stats object without its closing brace, then each part's own JSON text (building jsonb and
	 * concatenating it parsed every part again: a third of the statement). */
	[STMT_DASHBOARD] = { "dashboard",
		"SELECT json_object_open(s.stats)"
		/* each list is ARRAY(an index-ordered LIMIT query) joined: string_agg/json_agg with ORDER BY
		 * started an Agg and a sort of its own per list at every request (PostgreSQL 15) */
		" || ',\"recentCampaigns\":[' || array_to_string(ARRAY(SELECT " CAMPAIGN_SUMMARY_TEXT
		"     FROM campaigns c WHERE c.user_id = $1::uuid ORDER BY c.created_at DESC, c.id DESC LIMIT 5), ',')"
		" || '],\"recentJobs\":[' || array_to_string(ARRAY(SELECT job_json(j)::text"
		"     FROM jobs j WHERE j.user_id = $1::uuid ORDER BY j.created_at DESC, j.id DESC LIMIT 10), ',')"
		/* the 20 newest live jobs, listed oldest first */
		" || '],\"activeJobs\":[' || array_to_string(ARRAY(SELECT a.doc FROM (SELECT job_json(j)::text AS doc,"
		"     j.created_at FROM jobs j WHERE j.user_id = $1::uuid AND j.state IN ('queued', 'running')"
		"     ORDER BY j.created_at DESC, j.id DESC LIMIT 20) a ORDER BY a.created_at), ',') || ']'"
		/* each item's stored text (campaigns.content_items, sql/0029) after its campaign's id and
		 * name: the text after an object item's '{' continues the object (the API writes objects
		 * only; anything else in a content array is no item and is left out) */
		" || ',\"topContent\":[' || array_to_string(ARRAY(SELECT '{\"campaignId\":\"' || t.id || '\",\"campaignName\":'"
		"          || to_json(t.name) || CASE t.item WHEN '{}' THEN '}' ELSE ', ' || json_object_tail(t.item) END"
		/* the five best items are in the five campaigns whose best item is best (sql/0021): LIMIT 5 on
		 * campaigns_user_top_idx (every stored item has a score: content_item_finish); its keys are
		 * stored columns, so nothing is computed per row (sql/0027). Their items are ranked by their
		 * stored sort keys (content_item_keys, sql/0040: score, then createdAt, as text; NULL for no
		 * item), content itself is not read. The two arrays are expanded by set-returning functions
		 * in a select list, in step: as a LATERAL function scan the generic plan put a Memoize keyed
		 * on whole arrays under it, which read and hashed them to never hit */
		"     FROM (SELECT c.id, c.name, unnest(c.content_item_keys) AS k, unnest(c.content_items) AS item"
		"             FROM (SELECT id, name, content_item_keys, content_items FROM campaigns WHERE user_id = $1::uuid"
		"                     AND content_top_score IS NOT NULL"
		"                    ORDER BY content_top_score DESC NULLS LAST, content_top_created DESC LIMIT 5) c) t"
		"    WHERE t.k IS NOT NULL ORDER BY t.k COLLATE \"C\" DESC LIMIT 5), ',') || ']'"
		/* the last 30 UTC days of analytics (daily rollups), today included */
		" || ',\"analytics\":' || (SELECT json_build_object("
		"     'from', to_char(now() AT TIME ZONE 'UTC' - interval '29 days', 'YYYY-MM-DD'),"
		"     'to', to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD'),"
		"     'totals', analytics_metrics(sum(impressions), sum(opens), sum(unique_opens), sum(clicks),"
		"               sum(unique_clicks), sum(conversions), sum(spend), sum(revenue)))"
		"     FROM analytics_daily WHERE user_id = $1::uuid"
		"      AND bucket >= date_trunc('day', now(), 'UTC') - interval '29 days')"
		" || '}'"
		/* the stats text as a column (OFFSET 0 keeps it one): json_object_open reads its argument
		 * twice, and PostgreSQL inlines a SQL function only if such an argument is cheap; with
		 * the stats expression in it the SQL-function executor planned json_object_open's body per
		 * call. campaign_stats_of() is inlined: the summary is read in this plan (sql/0038) */
		" FROM (SELECT c.stats FROM campaign_stats_of($1::uuid) AS c (stats) OFFSET 0) s", 1 },

	/* ---- generation ---- */

	/* $1 user, $2 campaign, $3 job or NULL: what a brief needs, as one JSON document, plus the
	 * slots (type/platform/variant) that job already stored - a retried job skips them */
	[STMT_GEN_CONTEXT] = { "gen_context",
		"SELECT json_build_object('id', c.id, 'name', c.name, 'product', c.product, 'description', c.description,"
		"       'objective', c.objective, 'tone', c.tone, 'keywords', c.keywords,"
		"       'generationSettings', c.generation_settings,"
		"       'persona', CASE WHEN p.id IS NULL THEN NULL ELSE persona_json(p) END,"
		"       'brandProfile', CASE WHEN bp.id IS NULL THEN NULL ELSE brand_profile_json(bp) END,"
		"       'doneSlots', (SELECT coalesce(json_agg(e->'metadata'->>'slot'), '[]')"
		"                       FROM jsonb_array_elements(c.content) e"
		"                      WHERE $3::text IS NOT NULL AND e->'metadata'->>'jobId' = $3::text))"
		"  FROM campaigns c LEFT JOIN personas p ON p.id = c.persona_id"
		"       LEFT JOIN brand_profiles bp ON bp.id = c.brand_profile_id"
		" WHERE c.id = $2::uuid AND c.user_id = $1::uuid", 3 },

	/* $1 user, $2 campaign, $3 job, $4 [{provider, model, content_type, ...}] from gen_usage_json(),
	 * $5 reservations (bigint[] literal or NULL) these calls settle: released in the same commit */
	[STMT_LLM_USAGE_INSERT] = { "llm_usage_insert",
		"WITH released AS (DELETE FROM llm_reservations WHERE id = ANY($5::bigint[]) AND user_id = $1::uuid)"
		"INSERT INTO llm_usage (user_id, campaign_id, job_id, provider, model, content_type, platform, purpose,"
		"                       prompt_tokens, completion_tokens, latency_ms, http_status, outcome, created_at,"
		"                       cost, currency)"
		" SELECT $1::uuid, $2::uuid, $3::uuid, x.provider, x.model, x.content_type, x.platform, x.purpose,"
		"        x.prompt_tokens, x.completion_tokens, x.latency_ms, x.http_status, x.outcome, x.created_at,"
		"        x.cost, x.currency"
		"   FROM ROWS FROM (jsonb_to_recordset($4::jsonb) AS (provider text, model text, content_type text,"
		"        platform text, purpose text, prompt_tokens int, completion_tokens int, latency_ms int, http_status int,"
		"        outcome text, created_at timestamptz, cost numeric, currency text)) WITH ORDINALITY"
		"        AS x(provider, model, content_type, platform, purpose, prompt_tokens, completion_tokens, latency_ms,"
		"             http_status, outcome, created_at, cost, currency, n)"
		"  ORDER BY x.n", 5 },

	/* $1 user, $2..$5 configured daily/monthly token and cost limits, $6 currency, $7 whether limits
	 * apply (an external provider). Column 0: the limit reached (daily_tokens, monthly_tokens,
	 * daily_cost, monthly_cost) or NULL; column 1: ai-status's usage object. */
	[STMT_LLM_USAGE_STATUS] = { "llm_usage_status",
		"SELECT x.exceeded, json_build_object('tokensToday', s.tokens_today, 'dailyTokenLimit', s.daily_token_limit,"
		"       'limitReached', x.exceeded IS NOT NULL, 'exceededLimit', x.exceeded,"
		"       'tokensThisMonth', s.tokens_month, 'monthlyTokenLimit', s.monthly_token_limit,"
		"       'costToday', trim_scale(s.cost_today), 'dailyCostLimit', trim_scale(s.daily_cost_limit),"
		"       'costThisMonth', trim_scale(s.cost_month), 'monthlyCostLimit', trim_scale(s.monthly_cost_limit),"
		"       'currency', $6::text, 'reservedTokens', s.reserved_tokens, 'reservedCost', trim_scale(s.reserved_cost),"
		"       'dayResetsAt', to_char(date_trunc('day', now() AT TIME ZONE 'UTC') + interval '1 day',"
		"                              'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'),"
		"       'monthResetsAt', to_char(date_trunc('month', now() AT TIME ZONE 'UTC') + interval '1 month',"
		"                                'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'))"
		"  FROM llm_usage_status($1::uuid, $2::bigint, $3::bigint, $4::numeric, $5::numeric) s"
		"  CROSS JOIN LATERAL (SELECT CASE WHEN NOT $7::boolean THEN NULL"
		"       WHEN s.daily_token_limit > 0 AND s.tokens_today >= s.daily_token_limit THEN 'daily_tokens'"
		"       WHEN s.monthly_token_limit > 0 AND s.tokens_month >= s.monthly_token_limit THEN 'monthly_tokens'"
		"       WHEN s.daily_cost_limit > 0 AND s.cost_today >= s.daily_cost_limit THEN 'daily_cost'"
		"       WHEN s.monthly_cost_limit > 0 AND s.cost_month >= s.monthly_cost_limit THEN 'monthly_cost'"
		"       END AS exceeded) x", 7 },

	/* $1 user, $2/$3 first and last UTC day (validated ISO dates), $4 day|model|campaign, $5 currency
	 * when there are no rows: GET /api/usage's whole answer */
	[STMT_USAGE_REPORT] = { "usage_report",
		"WITH r AS ("
		"  SELECT CASE $4::text WHEN 'day' THEN to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD')"
		"                       WHEN 'model' THEN model ELSE campaign_id::text END AS key,"
		"         prompt_tokens, completion_tokens, cost, currency"
		"    FROM llm_usage"
		"   WHERE user_id = $1::uuid AND created_at >= $2::date::timestamp AT TIME ZONE 'UTC'"
		"     AND created_at < ($3::date + 1)::timestamp AT TIME ZONE 'UTC'"
		"), g AS ("
		"  SELECT key, currency, count(*) AS calls, sum(prompt_tokens) AS pt, sum(completion_tokens) AS ct,"
		"         coalesce(trim_scale(sum(cost)), 0) AS cost, count(*) FILTER (WHERE cost IS NULL) AS unpriced"
		"    FROM r GROUP BY key, currency"
		")"
		"SELECT json_build_object("
		"  'items', coalesce((SELECT json_agg(json_build_object('key', key, 'calls', calls, 'promptTokens', pt,"
		"           'completionTokens', ct, 'cost', cost, 'currency', currency, 'unpricedCalls', unpriced)"
		"           ORDER BY key NULLS LAST, currency) FROM g), '[]'),"
		"  'total', (SELECT json_build_object('calls', count(*), 'promptTokens', coalesce(sum(prompt_tokens), 0),"
		"           'completionTokens', coalesce(sum(completion_tokens), 0),"
		"           'cost', CASE WHEN count(DISTINCT currency) <= 1 THEN coalesce(trim_scale(sum(cost)), 0) END,"
		"           'currency', CASE WHEN count(DISTINCT currency) = 0 THEN $5::text"
		"                            WHEN count(DISTINCT currency) = 1 THEN min(currency) END,"
		"           'unpricedCalls', count(*) FILTER (WHERE cost IS NULL)) FROM r),"
		"  'from', $2::text, 'to', $3::text, 'groupBy', $4::text)", 5 },

	/* health: the same counts as an object keyed by queue name */
	[STMT_JOB_QUEUE_MAP] = { "job_queue_map",
		"SELECT coalesce(json_object_agg(queue, json_build_object('queued', queued, 'running', running,"
		"       'completed', completed, 'failed', failed, 'cancelled', cancelled,"
		"       'oldestQueuedSeconds', oldest_queued_seconds) ORDER BY queue), '{}')"
		"  FROM job_queue_status", 0 },

	/* $1 user, $2 campaign, $3 contentType, $4 platform, $5/$6 after (createdAt, id), $7 limit:
	 * a page of items, oldest first, as list_send() wants them (item, createdAt, id) */
	[STMT_CONTENT_PAGE] = { "content_page",
		"SELECT t.e, t.e->>'createdAt', t.e->>'id'"
		"  FROM campaigns c CROSS JOIN LATERAL jsonb_array_elements(c.content) WITH ORDINALITY AS t(e, n)"
		" WHERE c.id = $2::uuid AND c.user_id = $1::uuid"
		"   AND ($3::text IS NULL OR t.e->>'contentType' = $3)"
		"   AND ($4::text IS NULL OR t.e->>'platform' = $4)"
		"   AND ($5::timestamptz IS NULL"
		"        OR ((t.e->>'createdAt')::timestamptz, t.e->>'id') > ($5::timestamptz, $6::text))"
		" ORDER BY (t.e->>'createdAt')::timestamptz, t.e->>'id' LIMIT $7::int + 1", 7 },

	/* $1 user, $2 campaign */
	[STMT_CAMPAIGN_EXISTS] = { "campaign_exists",
		"SELECT 1 FROM campaigns WHERE id = $2::uuid AND user_id = $1::uuid", 2 },

	/* $1 user, $2 campaign, $3 item (or NULL: progress only), $4 job, $5 attempt, $6 worker, $7 done,
	 * $8 total: a generation job stores one finished item and its progress in one commit. Column 1
	 * is the stored item (NULL if the campaign is gone or the job is no longer ours), column 2
	 * whether the job is still ours. The job's row is locked first: a cancel that committed is seen
	 * (and nothing is stored), one that comes later waits for this commit, so no item is ever
	 * stored after its job ended. */
	[STMT_JOB_APPEND_ITEM] = { "job_append_item",
		"WITH ours AS (SELECT id FROM jobs"
		"              WHERE id = $4::uuid AND attempts = $5::int AND locked_by = $6 AND state = 'running'"
		"              FOR NO KEY UPDATE),"
		" item AS (SELECT jsonb_set($3::jsonb, '{metadata,generatedAt}', to_jsonb(rfc3339(now())))"
		"                || jsonb_build_object('id', gen_random_uuid(),"
		"                   'createdAt', rfc3339(now()), 'updatedAt', rfc3339(now())) AS e"
		"              WHERE $3::jsonb IS NOT NULL AND EXISTS (SELECT FROM ours)),"
		" stored AS (UPDATE campaigns c SET content = c.content || jsonb_build_array(item.e), updated_at = now()"
		"              FROM item WHERE c.id = $2::uuid AND c.user_id = $1::uuid RETURNING item.e),"
		" progress AS (UPDATE jobs SET heartbeat_at = now(), progress = jsonb_build_object('done', $7::int,"
		"              'total', $8::int, 'percent', CASE WHEN $8::int > 0 THEN round(100.0 * $7::int / $8::int) ELSE 0 END)"
		"              WHERE id IN (SELECT id FROM ours) RETURNING id)"
		"SELECT (SELECT e FROM stored), EXISTS (SELECT FROM progress)", 8 },

	/* ---- issue #8: login throttling, operators, cancel checks, token reservations ---- */

	/* $1 email as typed: 0 = check the password, else seconds until the email may try again */
	[STMT_LOGIN_ATTEMPT] = { "login_attempt", "SELECT login_attempt($1)", 1 },

	/* $1 email as typed: a correct password forgets the counted attempts */
	[STMT_LOGIN_SUCCEEDED] = { "login_succeeded", "SELECT login_succeeded($1)", 1 },

	/* $1 user: read on every request that shows whole-system figures (never from the token) */
	[STMT_USER_IS_OPERATOR] = { "user_is_operator",
		"SELECT coalesce((SELECT is_operator FROM users WHERE id = $1::uuid), false)", 1 },

	/* $1 email, $2 on (boolean): CLI only (as the migrating role; the API role cannot update users) */
	[STMT_USER_SET_OPERATOR] = { "user_set_operator",
		"UPDATE users u SET is_operator = $2::boolean, updated_at = now() WHERE lower(u.email) = lower($1)"
		" RETURNING user_json(u), u.is_operator", 2 },

	/* $1 job, $2 worker, $3 attempt: after an adcraft_cancel notification (any role may send one)
	 * the row decides. Column 1: cancelled; column 2: still this attempt's. No row: the job is gone. */
	[STMT_JOB_CANCEL_CHECK] = { "job_cancel_check",
		"SELECT state = 'cancelled', state = 'running' AND locked_by = $2 AND attempts = $3::int"
		"  FROM jobs WHERE id = $1::uuid", 3 },

	/* $1 user: job_queue_status counted over that user's jobs only */
	[STMT_JOB_QUEUE_STATUS_OWN] = { "job_queue_status_own",
		"SELECT coalesce(json_agg(json_build_object('name', queue, 'queued', queued, 'running', running,"
		"       'completed', completed, 'failed', failed, 'cancelled', cancelled,"
		"       'oldestQueuedSeconds', oldest_queued_seconds) ORDER BY queue), '[]')"
		"  FROM job_queue_status_of($1::uuid)", 1 },

	/* $1 user: the same as an object keyed by queue name (health) */
	[STMT_JOB_QUEUE_MAP_OWN] = { "job_queue_map_own",
		"SELECT coalesce(json_object_agg(queue, json_build_object('queued', queued, 'running', running,"
		"       'completed', completed, 'failed', failed, 'cancelled', cancelled,"
		"       'oldestQueuedSeconds', oldest_queued_seconds) ORDER BY queue), '{}')"
		"  FROM job_queue_status_of($1::uuid)", 1 },

	/* $1 user, $2 estimated tokens, $3 estimated cost, $4..$7 configured daily/monthly token and cost
	 * limits, $8 ttl (s): (reservation id, NULL), or (NULL, the limit the call would pass) */
	[STMT_LLM_RESERVE] = { "llm_reserve",
		"SELECT reservation, exceeded FROM llm_reserve($1::uuid, $2::int, $3::numeric, $4::bigint, $5::bigint,"
		"       $6::numeric, $7::numeric, $8::int)", 8 },

	/* adcraft user limits: $1 email, $2..$5 daily/monthly tokens and cost (NULL: unchanged, or with
	 * $6 clear: back to the configured default). Runs as the migrating role. No row: no such user. */
	[STMT_USER_LIMITS_SET] = { "user_limits_set",
		"INSERT INTO user_limits AS l (user_id, daily_tokens, monthly_tokens, daily_cost, monthly_cost)"
		" SELECT u.id, $2::bigint, $3::bigint, $4::numeric, $5::numeric FROM users u WHERE lower(u.email) = lower($1)"
		" ON CONFLICT (user_id) DO UPDATE SET"
		"   daily_tokens = CASE WHEN $6::boolean THEN EXCLUDED.daily_tokens"
		"                       ELSE coalesce(EXCLUDED.daily_tokens, l.daily_tokens) END,"
		"   monthly_tokens = CASE WHEN $6::boolean THEN EXCLUDED.monthly_tokens"
		"                         ELSE coalesce(EXCLUDED.monthly_tokens, l.monthly_tokens) END,"
		"   daily_cost = CASE WHEN $6::boolean THEN EXCLUDED.daily_cost"
		"                     ELSE coalesce(EXCLUDED.daily_cost, l.daily_cost) END,"
		"   monthly_cost = CASE WHEN $6::boolean THEN EXCLUDED.monthly_cost"
		"                       ELSE coalesce(EXCLUDED.monthly_cost, l.monthly_cost) END,"
		"   updated_at = now()"
		" RETURNING l.user_id", 6 },

	/* $1 email, $2..$5 configured daily/monthly token and cost limits, $6 currency: one user's
	 * effective limits, overrides and use (adcraft user limits). No row: no such user. */
	[STMT_USER_LIMITS_SHOW] = { "user_limits_show",
		"SELECT json_build_object('email', u.email, 'currency', $6::text,"
		"       'effective', json_build_object('dailyTokens', s.daily_token_limit, 'monthlyTokens', s.monthly_token_limit,"
		"           'dailyCost', trim_scale(s.daily_cost_limit), 'monthlyCost', trim_scale(s.monthly_cost_limit)),"
		"       'overrides', json_build_object('dailyTokens', l.daily_tokens, 'monthlyTokens', l.monthly_tokens,"
		"           'dailyCost', trim_scale(l.daily_cost), 'monthlyCost', trim_scale(l.monthly_cost)),"
		"       'used', json_build_object('tokensToday', s.tokens_today, 'tokensThisMonth', s.tokens_month,"
		"           'costToday', trim_scale(s.cost_today), 'costThisMonth', trim_scale(s.cost_month)))"
		"  FROM users u CROSS JOIN LATERAL llm_usage_status(u.id, $2::bigint, $3::bigint, $4::numeric, $5::numeric) s"
		"  LEFT JOIN user_limits l ON l.user_id = u.id"
		" WHERE lower(u.email) = lower($1)", 6 },

	/* $1 user, $2 slots: takes the first free one of the user's synchronous generation slots
	 * (session advisory locks, so a child that dies frees its slot). One row: the slot, or NULL
	 * when all are taken; no row: the account no longer exists (nothing is spent for it). */
	[STMT_GEN_SLOT_TAKE] = { "gen_slot_take",
		"SELECT (SELECT s FROM generate_series(1, $2::int) s"
		"         WHERE pg_try_advisory_lock(hashtext('adcraft.sync-generation:' || $1), s) LIMIT 1)"
		"  FROM users WHERE id = $1::uuid", 2 },

	/* $1 user, $2 slot taken by gen_slot_take */
	[STMT_GEN_SLOT_GIVE] = { "gen_slot_give",
		"SELECT pg_advisory_unlock(hashtext('adcraft.sync-generation:' || $1), $2::int)", 2 },

	/* $1 channel, $2 owner, $3 campaign (NULL for the owner's channel): the channel's next seq,
	 * taken inside the publisher's transaction (the row stays locked until its message is out) */
	[STMT_EVENT_SEQ] = { "event_seq",
		"INSERT INTO event_channels AS c (channel, user_id, campaign_id, seq)"
		" VALUES ($1, $2::uuid, $3::uuid, 1)"
		" ON CONFLICT (channel) DO UPDATE SET seq = c.seq + 1, last_event_at = now()"
		" RETURNING seq", 3 },

	/* $1 campaign (NULL: none), $2 user: whether the user still exists, and whether the
	 * campaign is the user's (events authorization) */
	[STMT_EVENT_CAMPAIGN_OWNED] = { "event_campaign_owned",
		"SELECT EXISTS (SELECT FROM users WHERE id = $2::uuid),"
		"       $1::uuid IS NULL OR EXISTS (SELECT FROM campaigns WHERE id = $1::uuid AND user_id = $2::uuid)", 2 },

	/* ---- issue #10: brand profiles; $n body is the validated request body as jsonb ---- */

	/* $1 user, $2 body */
	[STMT_BRAND_PROFILE_INSERT] = { "brand_profile_insert",
		"INSERT INTO brand_profiles AS p (user_id, name, description, voice, formality, emoji_policy,"
		"                                 reading_max_grade, preferred_terms, forbidden_terms, competitors,"
		"                                 required_disclaimers, examples)"
		" SELECT $1::uuid, b->>'name', coalesce(b->>'description', ''), coalesce(b->>'voice', ''),"
		"        coalesce((b->>'formality')::smallint, 3), coalesce(b->>'emojiPolicy', 'sparing'),"
		"        (b->'readingLevel'->>'maxGrade')::smallint, coalesce(nullif(b->'preferredTerms', 'null'), '[]'),"
		"        coalesce(jsonb_text_array(b->'forbiddenTerms'), '{}'), coalesce(jsonb_text_array(b->'competitors'), '{}'),"
		"        coalesce(nullif(b->'requiredDisclaimers', 'null'), '[]'), coalesce(jsonb_text_array(b->'examples'), '{}')"
		" FROM (SELECT $2::jsonb AS b) AS input"
		" RETURNING brand_profile_json(p)", 2 },

	/* $1 user, $2 after created_at, $3 after id, $4 limit + 1 rows */
	[STMT_BRAND_PROFILE_LIST] = { "brand_profile_list",
		"SELECT brand_profile_json(p), p.created_at::text, p.id FROM brand_profiles p"
		" WHERE p.user_id = $1::uuid"
		"   AND ($2::timestamptz IS NULL OR (p.created_at, p.id) < ($2::timestamptz, $3::uuid))"
		" ORDER BY p.created_at DESC, p.id DESC LIMIT $4::int + 1", 4 },

	/* $1 user, $2 profile */
	[STMT_BRAND_PROFILE_GET] = { "brand_profile_get",
		"SELECT brand_profile_json(p) FROM brand_profiles p WHERE p.id = $2::uuid AND p.user_id = $1::uuid", 2 },

	/* $1 user, $2 profile, $3 body, $4 replace (PUT: absent fields reset; PATCH: absent fields kept).
	 * The brand_profiles_version trigger adds 1 to version. */
	[STMT_BRAND_PROFILE_UPDATE] = { "brand_profile_update",
		"UPDATE brand_profiles p SET"
		"  name = CASE WHEN $4 OR b ? 'name' THEN b->>'name' ELSE p.name END,"
		"  description = CASE WHEN $4 OR b ? 'description' THEN coalesce(b->>'description', '') ELSE p.description END,"
		"  voice = CASE WHEN $4 OR b ? 'voice' THEN coalesce(b->>'voice', '') ELSE p.voice END,"
		"  formality = CASE WHEN $4 OR b ? 'formality' THEN coalesce((b->>'formality')::smallint, 3) ELSE p.formality END,"
		"  emoji_policy = CASE WHEN $4 OR b ? 'emojiPolicy' THEN coalesce(b->>'emojiPolicy', 'sparing') ELSE p.emoji_policy END,"
		"  reading_max_grade = CASE WHEN $4 OR b ? 'readingLevel' THEN (b->'readingLevel'->>'maxGrade')::smallint"
		"    ELSE p.reading_max_grade END,"
		"  preferred_terms = CASE WHEN $4 OR b ? 'preferredTerms' THEN coalesce(nullif(b->'preferredTerms', 'null'), '[]')"
		"    ELSE p.preferred_terms END,"
		"  forbidden_terms = CASE WHEN $4 OR b ? 'forbiddenTerms' THEN coalesce(jsonb_text_array(b->'forbiddenTerms'), '{}')"
		"    ELSE p.forbidden_terms END,"
		"  competitors = CASE WHEN $4 OR b ? 'competitors' THEN coalesce(jsonb_text_array(b->'competitors'), '{}')"
		"    ELSE p.competitors END,"
		"  required_disclaimers = CASE WHEN $4 OR b ? 'requiredDisclaimers'"
		"    THEN coalesce(nullif(b->'requiredDisclaimers', 'null'), '[]') ELSE p.required_disclaimers END,"
		"  examples = CASE WHEN $4 OR b ? 'examples' THEN coalesce(jsonb_text_array(b->'examples'), '{}') ELSE p.examples END,"
		"  updated_at = now()"
		" FROM (SELECT $3::jsonb AS b) AS input"
		" WHERE p.id = $2::uuid AND p.user_id = $1::uuid"
		" RETURNING brand_profile_json(p)", 4 },

	/* $1 user, $2 profile: 23503 (campaigns_brand_profile_fkey) while a campaign uses it */
	[STMT_BRAND_PROFILE_DELETE] = { "brand_profile_delete",
		"DELETE FROM brand_profiles WHERE id = $2::uuid AND user_id = $1::uuid", 2 },

	/* ---- issue #11: sends (the rules are in SQL: sql/0013_sends.sql) ---- */

	/* $1 user, $2 campaign, $3 content item, $4 list, $5 scheduled at, $6..$8 sender name, email, reply-to */
	[STMT_SEND_CREATE] = { "send_create",
		"SELECT send_create($1::uuid, $2::uuid, $3::uuid, $4::uuid, $5::timestamptz, $6, $7, $8)", 8 },

	/* $1 user, $2 campaign, $3 status or NULL, $4/$5 after, $6 limit */
	[STMT_SEND_LIST] = { "send_list",
		"SELECT send_json(s), s.created_at::text, s.id FROM sends s"
		" WHERE s.user_id = $1::uuid AND s.campaign_id = $2::uuid"
		"   AND ($3::text IS NULL OR s.status = $3)"
		"   AND ($4::timestamptz IS NULL OR (s.created_at, s.id) < ($4::timestamptz, $5::uuid))"
		" ORDER BY s.created_at DESC, s.id DESC LIMIT $6::int + 1", 6 },

	/* $1 user, $2 send */
	[STMT_SEND_GET] = { "send_get",
		"SELECT send_json(s) FROM sends s WHERE s.id = $2::uuid AND s.user_id = $1::uuid", 2 },

	/* $1 send (the caller's: checked first), $2 status or NULL, $3/$4 after, $5 limit */
	[STMT_SEND_RECIPIENTS] = { "send_recipients",
		"SELECT json_build_object('contactId', r.contact_id, 'email', r.email, 'status', r.status,"
		"                         'attempts', r.attempts, 'lastError', r.last_error,"
		"                         'sentAt', rfc3339(r.sent_at), 'messageId', r.message_id,"
		"                         'variant', r.variant, 'contentId', r.content_id),"
		"       r.created_at::text, r.contact_id"
		"  FROM send_recipients r"
		" WHERE r.send_id = $1::uuid AND ($2::text IS NULL OR r.status = $2)"
		"   AND ($3::timestamptz IS NULL OR (r.created_at, r.contact_id) < ($3::timestamptz, $4::uuid))"
		" ORDER BY r.created_at DESC, r.contact_id DESC LIMIT $5::int + 1", 5 },

	/* $1 user, $2 send, $3 addresses (JSON array): a deliver-test job */
	[STMT_SEND_TEST] = { "send_test",
		"INSERT INTO jobs (queue, kind, payload, user_id, campaign_id)"
		" SELECT 'email-sending', 'deliver-test', jsonb_build_object('sendId', s.id, 'to', $3::jsonb),"
		"        s.user_id, s.campaign_id"
		"   FROM sends s WHERE s.id = $2::uuid AND s.user_id = $1::uuid"
		" RETURNING json_build_object('jobId', id)", 3 },

	/* $1 user, $2 send */
	[STMT_SEND_APPROVE] = { "send_approve", "SELECT send_approve($1::uuid, $2::uuid)", 2 },

	/* $1 user, $2 send, $3 pause | resume | cancel */
	[STMT_SEND_CONTROL] = { "send_control", "SELECT send_control($1::uuid, $2::uuid, $3)", 3 },

	/* ---- delivery (src/worker/sending.c) ---- */

	/* $1 send: one job delivers a send at a time (a session lock, released at the job's end) */
	[STMT_SEND_LOCK] = { "send_lock", "SELECT pg_try_advisory_lock(hashtext('adcraft.send'), hashtext($1))", 1 },
	[STMT_SEND_UNLOCK] = { "send_unlock", "SELECT pg_advisory_unlock(hashtext('adcraft.send'), hashtext($1))", 1 },

	/* $1 send: marks an approved (or scheduled, or resumed) send sending; no row when it is not deliverable */
	[STMT_DELIVERY_BEGIN] = { "delivery_begin",
		"UPDATE sends s SET status = 'sending', updated_at = now()"
		" WHERE s.id = $1::uuid AND s.status IN ('approved', 'scheduled', 'sending')"
		" RETURNING s.snapshot::text, s.from_name, s.from_email, s.reply_to,"
		"           (SELECT count(*) FROM send_recipients r WHERE r.send_id = s.id), s.variant_snapshots::text", 1 },

	/* $1 send, $2 owner: what a test delivery sends, whatever the send's status */
	[STMT_DELIVERY_TEST_SEND] = { "delivery_test_send",
		"SELECT snapshot::text, from_name, from_email, reply_to FROM sends WHERE id = $1::uuid AND user_id = $2::uuid",
		2 },

	/* $1 send: recipients a dead attempt left inside an SMTP transaction are not sent again */
	[STMT_DELIVERY_STALE] = { "delivery_stale",
		"UPDATE send_recipients SET status = 'failed', locked_by = NULL,"
		"       last_error = 'delivery was interrupted inside the SMTP transaction; not sent again, so that"
		" nobody gets two copies'"
		" WHERE send_id = $1::uuid AND status = 'sending'", 1 },

	/* $1 send */
	[STMT_DELIVERY_STATUS] = { "delivery_status", "SELECT status FROM sends WHERE id = $1::uuid", 1 },

	/* $1 send, $2 batch size: the due recipients with their contacts' merge fields and their A/B
	 * variant (NULL: the send's snapshot); those whose contact is no longer subscribed (or gone) are
	 * marked suppressed on the way */
	[STMT_DELIVERY_BATCH] = { "delivery_batch",
		"WITH due AS ("
		"  SELECT r.id, r.contact_id, r.email, r.attempts, c.first_name, c.last_name, c.attributes, r.variant,"
		"         coalesce(c.status, 'deleted') AS contact_status"
		"    FROM send_recipients r LEFT JOIN contacts c ON c.id = r.contact_id"
		"   WHERE r.send_id = $1::uuid AND r.status IN ('queued', 'deferred') AND r.next_attempt_at <= now()"
		"   ORDER BY r.next_attempt_at, r.id LIMIT $2::int),"
		" suppressed AS ("
		"  UPDATE send_recipients s SET status = 'suppressed', last_error = 'contact is ' || d.contact_status"
		"    FROM due d WHERE s.id = d.id AND d.contact_status <> 'subscribed')"
		" SELECT d.id, d.contact_id, d.email, coalesce(d.first_name, ''), coalesce(d.last_name, ''),"
		"        coalesce(d.attributes, '{}')::text, d.attempts + 1, d.contact_status, d.variant"
		"   FROM due d ORDER BY d.id", 2 },

	/* $1 recipient, $2 worker, $3 Message-ID: committed before the SMTP transaction starts */
	[STMT_DELIVERY_MARK] = { "delivery_mark",
		"UPDATE send_recipients SET status = 'sending', locked_by = $2, message_id = $3, attempts = attempts + 1"
		" WHERE id = $1::uuid AND status IN ('queued', 'deferred') RETURNING 1", 3 },

	/* $1 recipient, $2 sent | deferred | bounced | failed | queued, $3 reply or error, $4 seconds
	 * until a retry: the outcome; a bounce marks the contact bounced */
	[STMT_DELIVERY_RESULT] = { "delivery_result",
		"WITH r AS ("
		"  UPDATE send_recipients SET status = $2, locked_by = NULL,"
		"         last_error = CASE WHEN $2 = 'sent' THEN NULL ELSE left($3, 1000) END,"
		"         sent_at = CASE WHEN $2 = 'sent' THEN now() END,"
		"         next_attempt_at = now() + make_interval(secs => $4::int),"
		"         attempts = CASE WHEN $2 = 'queued' THEN attempts - 1 ELSE attempts END"
		"   WHERE id = $1::uuid RETURNING contact_id)"
		" UPDATE contacts c SET status = 'bounced', updated_at = now()"
		"   FROM r WHERE $2 = 'bounced' AND c.id = r.contact_id AND c.status = 'subscribed'", 4 },

	/* $1 send, $2 reason */
	[STMT_DELIVERY_PAUSE] = { "delivery_pause",
		"UPDATE sends SET status = 'paused', pause_reason = $2, updated_at = now()"
		" WHERE id = $1::uuid AND status = 'sending'", 2 },

	/* a delivery's per-recipient commits do not wait for the WAL flush; reset when the job ends */
	[STMT_DELIVERY_ASYNC_COMMIT] = { "delivery_async_commit",
		"SELECT set_config('synchronous_commit', 'off', false)", 0 },
	[STMT_DELIVERY_SYNC_COMMIT] = { "delivery_sync_commit",
		"SELECT set_config('synchronous_commit', reset_val, false) FROM pg_settings WHERE name = 'synchronous_commit'",
		0 },

	/* $1 server URL, $2 max_conns: a free connection slot of that server (session lock), or NULL */
	[STMT_SMTP_SLOT_TAKE] = { "smtp_slot_take",
		"SELECT (SELECT s FROM generate_series(1, $2::int) s"
		"         WHERE pg_try_advisory_lock(hashtext('adcraft.smtp:' || $1), s) LIMIT 1)", 2 },

	/* $1 server URL, $2 slot taken by smtp_slot_take */
	[STMT_SMTP_SLOT_GIVE] = { "smtp_slot_give",
		"SELECT pg_advisory_unlock(hashtext('adcraft.smtp:' || $1), $2::int)", 2 },

	/* $1 send, $2 owner, $3 campaign: nothing due now. The send is sent when no recipient is
	 * open; otherwise a follow-up job waits for the earliest deferred one (held ones wait for their
	 * A/B test's end, which queues their job). One row: the state. */
	[STMT_DELIVERY_FINISH] = { "delivery_finish",
		"WITH open AS ("
		"  SELECT count(*) FILTER (WHERE status IN ('queued', 'deferred', 'sending', 'held')) AS n,"
		"         count(*) FILTER (WHERE status = 'held') AS held,"
		"         min(next_attempt_at) FILTER (WHERE status IN ('queued', 'deferred')) AS due"
		"    FROM send_recipients WHERE send_id = $1::uuid),"
		" sent AS ("
		"  UPDATE sends SET status = 'sent', finished_at = now(), updated_at = now()"
		"    FROM open WHERE id = $1::uuid AND status = 'sending' AND open.n = 0 RETURNING 1),"
		" later AS ("
		"  INSERT INTO jobs (queue, kind, payload, user_id, campaign_id, run_at)"
		"  SELECT 'email-sending', 'deliver-send', jsonb_build_object('sendId', $1::uuid), $2::uuid, $3::uuid,"
		"         open.due"
		"    FROM open WHERE open.n > 0 AND open.due IS NOT NULL RETURNING 1)"
		" SELECT CASE WHEN EXISTS (SELECT FROM sent) THEN 'sent'"
		"             WHEN EXISTS (SELECT FROM later) THEN 'waiting for deferred recipients'"
		"             WHEN (SELECT held FROM open) > 0 THEN 'waiting for the A/B test''s winner'"
		"             ELSE 'sending' END", 3 },
	/* ---- contacts (issue #11): 23505 on contacts_user_email_key is a duplicate email ---- */

	/* $1 user, $2 body */
	[STMT_CONTACT_INSERT] = { "contact_insert",
		"INSERT INTO contacts AS c (user_id, email, first_name, last_name, attributes, status, consent_source,"
		"                           consent_at)"
		" SELECT $1::uuid, b->>'email', coalesce(b->>'firstName', ''), coalesce(b->>'lastName', ''),"
		"        coalesce(nullif(b->'attributes', 'null'), '{}'), coalesce(b->>'status', 'subscribed'),"
		"        b->>'consentSource', (b->>'consentAt')::timestamptz"
		" FROM (SELECT $2::jsonb AS b) AS input"
		" RETURNING contact_json(c)", 2 },

	/* $1 user, $2 status, $3 list, $4 search (email or name), $5/$6 after, $7 limit */
	[STMT_CONTACT_LIST] = { "contact_list",
		"SELECT contact_json(c), c.created_at::text, c.id FROM contacts c"
		" WHERE c.user_id = $1::uuid"
		"   AND ($2::text IS NULL OR c.status = $2)"
		"   AND ($3::uuid IS NULL OR EXISTS (SELECT FROM list_members m"
		"        WHERE m.list_id = $3::uuid AND m.contact_id = c.id AND m.user_id = $1::uuid))"
		"   AND ($4::text IS NULL"
		"        OR contact_search_text(c.email, c.first_name, c.last_name) ILIKE '%' || like_escape($4) || '%')"
		"   AND ($5::timestamptz IS NULL OR (c.created_at, c.id) < ($5::timestamptz, $6::uuid))"
		" ORDER BY c.created_at DESC, c.id DESC LIMIT $7::int + 1", 7 },

	/* $1 user, $2 contact */
	[STMT_CONTACT_GET] = { "contact_get",
		"SELECT contact_json(c) FROM contacts c WHERE c.id = $2::uuid AND c.user_id = $1::uuid", 2 },

	/* $1 user, $2 contact, $3 body (PATCH: absent fields kept; attributes are replaced as a whole) */
	[STMT_CONTACT_UPDATE] = { "contact_update",
		"UPDATE contacts c SET"
		"  email = coalesce(b->>'email', c.email),"
		"  first_name = CASE WHEN b ? 'firstName' THEN coalesce(b->>'firstName', '') ELSE c.first_name END,"
		"  last_name = CASE WHEN b ? 'lastName' THEN coalesce(b->>'lastName', '') ELSE c.last_name END,"
		"  attributes = CASE WHEN b ? 'attributes' THEN coalesce(nullif(b->'attributes', 'null'), '{}')"
		"    ELSE c.attributes END,"
		"  status = coalesce(b->>'status', c.status),"
		"  consent_source = CASE WHEN b ? 'consentSource' THEN b->>'consentSource' ELSE c.consent_source END,"
		"  consent_at = CASE WHEN b ? 'consentAt' THEN (b->>'consentAt')::timestamptz ELSE c.consent_at END,"
		"  updated_at = now()"
		" FROM (SELECT $3::jsonb AS b) AS input"
		" WHERE c.id = $2::uuid AND c.user_id = $1::uuid"
		" RETURNING contact_json(c)", 3 },

	/* $1 user, $2 contact (its list memberships go with it) */
	[STMT_CONTACT_DELETE] = { "contact_delete",
		"DELETE FROM contacts WHERE id = $2::uuid AND user_id = $1::uuid", 2 },

	/* ---- lists ---- */

	/* $1 user, $2 body */
	[STMT_LIST_INSERT] = { "list_insert",
		"INSERT INTO lists AS l (user_id, name, description)"
		" SELECT $1::uuid, b->>'name', coalesce(b->>'description', '')"
		" FROM (SELECT $2::jsonb AS b) AS input"
		" RETURNING list_json(l)", 2 },

	/* $1 user, $2/$3 after, $4 limit */
	[STMT_LIST_LIST] = { "list_list",
		"SELECT list_json(l), l.created_at::text, l.id FROM lists l"
		" WHERE l.user_id = $1::uuid"
		"   AND ($2::timestamptz IS NULL OR (l.created_at, l.id) < ($2::timestamptz, $3::uuid))"
		" ORDER BY l.created_at DESC, l.id DESC LIMIT $4::int + 1", 4 },

	/* $1 user, $2 list */
	[STMT_LIST_GET] = { "list_get",
		"SELECT list_json(l) FROM lists l WHERE l.id = $2::uuid AND l.user_id = $1::uuid", 2 },

	/* $1 user, $2 list, $3 body (PATCH) */
	[STMT_LIST_UPDATE] = { "list_update",
		"UPDATE lists l SET"
		"  name = coalesce(b->>'name', l.name),"
		"  description = CASE WHEN b ? 'description' THEN coalesce(b->>'description', '') ELSE l.description END,"
		"  updated_at = now()"
		" FROM (SELECT $3::jsonb AS b) AS input"
		" WHERE l.id = $2::uuid AND l.user_id = $1::uuid"
		" RETURNING list_json(l)", 3 },

	/* $1 user, $2 list (memberships and pending imports to it go with it) */
	[STMT_LIST_DELETE] = { "list_delete",
		"DELETE FROM lists WHERE id = $2::uuid AND user_id = $1::uuid", 2 },

	/* $1 user, $2 list, $3 contact ids (uuid[] text). Adds all of them or none: the row says whether
	 * the list exists, how many memberships are new, and which ids are not the caller's contacts. */
	[STMT_LIST_MEMBERS_ADD] = { "list_members_add",
		"WITH l AS (SELECT id FROM lists WHERE id = $2::uuid AND user_id = $1::uuid),"
		" wanted AS (SELECT DISTINCT w.id FROM unnest($3::uuid[]) AS w(id)),"
		" missing AS (SELECT w.id FROM wanted w"
		"   WHERE NOT EXISTS (SELECT FROM contacts c WHERE c.id = w.id AND c.user_id = $1::uuid)),"
		" added AS ("
		"  INSERT INTO list_members (list_id, contact_id, user_id)"
		"  SELECT l.id, w.id, $1::uuid FROM l, wanted w WHERE NOT EXISTS (SELECT FROM missing)"
		"  ON CONFLICT DO NOTHING RETURNING 1)"
		"SELECT EXISTS (SELECT FROM l), (SELECT count(*) FROM added),"
		"       (SELECT coalesce(json_agg(id), '[]') FROM missing)", 3 },

	/* $1 user, $2 list, $3 contact */
	[STMT_LIST_MEMBER_REMOVE] = { "list_member_remove",
		"DELETE FROM list_members WHERE list_id = $2::uuid AND contact_id = $3::uuid AND user_id = $1::uuid", 3 },

	/* ---- CSV imports: staged by the API, loaded by the import-contacts job (data-exports) ---- */

	/* $1 user, $2 list or NULL, $3 the CSV. No row when the list is not the caller's. */
	[STMT_CONTACT_IMPORT_ENQUEUE] = { "contact_import_enqueue",
		"WITH l AS (SELECT $2::uuid AS id"
		"            WHERE $2 IS NULL OR EXISTS (SELECT FROM lists WHERE id = $2::uuid AND user_id = $1::uuid)),"
		" i AS (INSERT INTO contact_imports (user_id, list_id, body) SELECT $1::uuid, l.id, $3 FROM l RETURNING *),"
		" j AS (INSERT INTO jobs (queue, kind, payload, user_id, max_attempts)"
		"       SELECT 'data-exports', 'import-contacts',"
		"              jsonb_build_object('importId', i.id, 'listId', i.list_id, 'bytes', octet_length($3)),"
		"              $1::uuid, 3 FROM i"
		"       RETURNING *)"
		"SELECT job_json(j), j.id FROM j", 3 },

	/* $1 import, $2 user: the CSV, or no row once loaded (or its list was deleted) */
	[STMT_CONTACT_IMPORT_LOAD] = { "contact_import_load",
		"SELECT body FROM contact_imports WHERE id = $1::uuid AND user_id = $2::uuid", 2 },

	/* in the import's transaction: the temporary table COPY fills */
	[STMT_CONTACT_IMPORT_BEGIN] = { "contact_import_begin", "SELECT contact_import_begin()", 0 },

	/* $1 import, $2 user: {imported, updated, repeats}, or NULL when the staging row is gone */
	[STMT_CONTACT_IMPORT_APPLY] = { "contact_import_apply",
		"SELECT contact_import_apply($1::uuid, $2::uuid)", 2 },

	/* $1 worker, $2 job, $3 attempt, $4 seconds: the heartbeat moved ahead before one long step
	 * (job_extend); no row when the job is no longer ours */
	[STMT_JOB_EXTEND] = { "job_extend",
		"UPDATE jobs SET heartbeat_at = now() + make_interval(secs => $4::int)"
		" WHERE id = $2::uuid AND attempts = $3::int AND locked_by = $1 AND state = 'running'"
		" RETURNING id", 4 },

	/* ---- public mail endpoints (/u/, /t/) and the webhook (sql/0014_email_events.sql) ---- */

	/* $1 recipient, $2 send, $3 contact (a token's ids): the snapshot it was sent (its A/B variant's), or no row */
	[STMT_MAIL_RECIPIENT] = { "mail_recipient",
		"SELECT coalesce(s.variant_snapshots->r.variant, s.snapshot)::text"
		"  FROM send_recipients r JOIN sends s ON s.id = r.send_id"
		" WHERE r.id = $1::uuid AND r.send_id = $2::uuid AND r.contact_id = $3::uuid", 3 },

	/* $1 recipient, $2 send, $3 contact, $4 one-click | page: false when no such recipient */
	[STMT_MAIL_UNSUBSCRIBE] = { "mail_unsubscribe",
		"SELECT mail_unsubscribe($1::uuid, $2::uuid, $3::uuid, $4)", 4 },

	/* $1 recipient, $2 send, $3 contact, $4 open | click, $5 link index (clicks) or NULL */
	[STMT_MAIL_EVENT] = { "mail_event",
		"INSERT INTO email_events (user_id, send_id, recipient_id, contact_id, type, link_index, source)"
		" SELECT s.user_id, r.send_id, r.id, r.contact_id, $4, $5::int, 'tracking'"
		"   FROM send_recipients r JOIN sends s ON s.id = r.send_id"
		"  WHERE r.id = $1::uuid AND r.send_id = $2::uuid AND r.contact_id = $3::uuid", 5 },

	/* $1 the request's events array: {applied, unknown} */
	[STMT_MAIL_WEBHOOK] = { "mail_webhook", "SELECT email_events_apply($1::jsonb)", 1 },

	/* ---- media assets (issue #13 section 2, sql/0018_assets.sql, src/media/) ---- */

	/* $1 sha256: the session lock around writing/unlinking a stored file and its rows */
	[STMT_ASSET_LOCK] = { "asset_lock", "SELECT pg_advisory_lock(asset_lock_key($1))", 1 },
	/* the same waiting at most 2 s (t: taken): the API answers 409 rather than wait out a rendition
	 * job (sql/0042) */
	[STMT_ASSET_LOCK_WITHIN] = { "asset_lock_within", "SELECT asset_lock_within($1)", 1 },
	[STMT_ASSET_UNLOCK] = { "asset_unlock", "SELECT pg_advisory_unlock(asset_lock_key($1))", 1 },

	/* $1 user, $2 sha256, $3 filename, $4 type, $5 path, $6 bytes, $7 width, $8 height, $9 quota:
	 * (asset json or NULL when over quota, created, bytes used before, id) */
	[STMT_ASSET_STORE] = { "asset_store",
		"SELECT asset, created, used, asset->>'id' FROM asset_store($1::uuid, $2, $3, $4, $5, $6::bigint, $7::int, $8::int,"
		" $9::bigint)", 9 },

	/* $1 user, $2/$3 keyset, $4 limit */
	[STMT_ASSET_LIST] = { "asset_list",
		"SELECT asset_json(a), a.created_at::text, a.id FROM assets a"
		" WHERE a.user_id = $1::uuid"
		"   AND ($2::timestamptz IS NULL OR (a.created_at, a.id) < ($2::timestamptz, $3::uuid))"
		" ORDER BY a.created_at DESC, a.id DESC LIMIT $4::int + 1", 4 },

	/* $1 user, $2 asset */
	[STMT_ASSET_GET] = { "asset_get",
		"SELECT asset_json(a), a.sha256 FROM assets a WHERE a.id = $2::uuid AND a.user_id = $1::uuid", 2 },

	/* $1 user, $2 asset: (status 204/404/409, files to unlink) */
	[STMT_ASSET_DELETE] = { "asset_delete", "SELECT status, files FROM asset_delete($1::uuid, $2::uuid)", 2 },

	/* $1 user, $2 asset: its URL and canonical id when the caller owns it (visualAssetId), else no row */
	[STMT_ASSET_URL] = { "asset_url",
		"SELECT '/media/' || path, id FROM assets WHERE id = $2::uuid AND user_id = $1::uuid", 2 },

	/* $1 asset, $2 user: what the asset-renditions job needs; no row once deleted */
	[STMT_ASSET_FOR_RENDITIONS] = { "asset_for_renditions",
		"SELECT path, sha256, content_type FROM assets WHERE id = $1::uuid AND user_id = $2::uuid", 2 },

	/* $1 asset: a retry starts from no renditions */
	[STMT_ASSET_RENDITION_CLEAR] = { "asset_rendition_clear",
		"DELETE FROM asset_renditions WHERE asset_id = $1::uuid", 1 },

	/* $1 asset, $2 name, $3 sha256, $4 path, $5 bytes, $6 width, $7 height */
	[STMT_ASSET_RENDITION_ADD] = { "asset_rendition_add",
		"INSERT INTO asset_renditions (asset_id, name, sha256, path, bytes, width, height)"
		" SELECT id, $2, $3, $4, $5::bigint, $6::int, $7::int FROM assets WHERE id = $1::uuid", 7 },
	/* ---- issue #13 section 1: data exports ---- */

	/* Columns of an export row as the API sends it: 0 export_json, 1 created_at (keyset), 2 id,
	 * 3 user_id, 4 ready ('t' when a download link may be made), 5 expires_at (epoch seconds). */
#define EXPORT_COLUMNS \
	"export_json(e), e.created_at::text, e.id, e.user_id," \
	" e.status = 'ready' AND e.expires_at > now(), extract(epoch FROM e.expires_at)::bigint"

	/* $1 user, $2 campaign, $3 list, $4 send (each may be NULL): whether each is absent or the user's */
	[STMT_EXPORT_REFS] = { "export_refs",
		"SELECT $2::uuid IS NULL OR EXISTS (SELECT FROM campaigns WHERE id = $2::uuid AND user_id = $1::uuid),"
		"       $3::uuid IS NULL OR EXISTS (SELECT FROM lists WHERE id = $3::uuid AND user_id = $1::uuid),"
		"       $4::uuid IS NULL OR EXISTS (SELECT FROM sends WHERE id = $4::uuid AND user_id = $1::uuid)", 4 },

	/* $1 user, $2 kind, $3 format, $4 bom, $5 filters: the export and its job, in one statement */
	[STMT_EXPORT_INSERT] = { "export_insert",
		"WITH ids AS (SELECT gen_random_uuid() AS export_id, gen_random_uuid() AS job_id),"
		" j AS (INSERT INTO jobs (id, queue, kind, payload, user_id, max_attempts)"
		"       SELECT ids.job_id, 'data-exports', 'export', jsonb_build_object('exportId', ids.export_id),"
		"              $1::uuid, 3 FROM ids RETURNING id),"
		" e AS (INSERT INTO exports (id, user_id, kind, format, bom, filters, job_id)"
		"       SELECT ids.export_id, $1::uuid, $2, $3, $4::boolean, $5::jsonb, j.id FROM ids, j RETURNING *)"
		"SELECT " EXPORT_COLUMNS " FROM e", 5 },

	/* $1 user, $2 after created_at, $3 after id, $4 limit */
	[STMT_EXPORT_LIST] = { "export_list",
		"SELECT " EXPORT_COLUMNS " FROM exports e"
		" WHERE e.user_id = $1::uuid"
		"   AND ($2::timestamptz IS NULL OR (e.created_at, e.id) < ($2::timestamptz, $3::uuid))"
		" ORDER BY e.created_at DESC, e.id DESC LIMIT $4::int + 1", 4 },

	/* $1 user, $2 export */
	[STMT_EXPORT_GET] = { "export_get",
		"SELECT " EXPORT_COLUMNS " FROM exports e WHERE e.id = $2::uuid AND e.user_id = $1::uuid", 2 },

	/* $1 user, $2 export: its file name (NULL unless ready) to delete; its job is cancelled if not done */
	[STMT_EXPORT_DELETE] = { "export_delete",
		"WITH d AS (DELETE FROM exports WHERE id = $2::uuid AND user_id = $1::uuid RETURNING file_name, job_id),"
		" c AS (UPDATE jobs j SET state = 'cancelled', finished_at = now(), locked_by = NULL, heartbeat_at = NULL,"
		"              last_error = 'the export was deleted'"
		"         FROM d WHERE j.id = d.job_id AND j.state IN ('queued', 'running') RETURNING j.id)"
		"SELECT d.file_name, (SELECT count(*) FROM c) FROM d", 2 },

	/* $1 export (a download link's; no login): what the link must match and what nginx serves */
	[STMT_EXPORT_DOWNLOAD] = { "export_download",
		"SELECT e.id, e.user_id, e.status, e.file_name, e.kind, e.format,"
		"       to_char(e.finished_at AT TIME ZONE 'UTC', 'YYYY-MM-DD'), e.expires_at <= now()"
		"  FROM exports e WHERE e.id = $1::uuid", 1 },

	/* $1 export, $2 user: the job takes it up; no row when it was deleted or is done */
	[STMT_EXPORT_START] = { "export_start",
		"UPDATE exports SET status = 'running', updated_at = now()"
		" WHERE id = $1::uuid AND user_id = $2::uuid AND status IN ('queued', 'running')"
		" RETURNING kind, format, bom, filters::text", 2 },

	/* $1 export, $2 rows, $3 bytes, $4 file name, $5 export_ttl seconds; no row when it was deleted */
	[STMT_EXPORT_READY] = { "export_ready",
		"UPDATE exports SET status = 'ready', rows = $2::bigint, bytes = $3::bigint, file_name = $4,"
		"       finished_at = now(), expires_at = now() + make_interval(secs => $5::int), updated_at = now()"
		" WHERE id = $1::uuid AND status = 'running' RETURNING id", 5 },

	/* $1 export, $2 why */
	[STMT_EXPORT_FAIL] = { "export_fail",
		"UPDATE exports SET status = 'failed', error = left($2, 1000), finished_at = now(), updated_at = now()"
		" WHERE id = $1::uuid AND status IN ('queued', 'running')", 2 },

	/* $1 at most this many: (id, file_name) of ready exports now marked expired, whose files go */
	[STMT_EXPORT_EXPIRE] = { "export_expire", "SELECT id, file_name FROM exports_expire($1::int)", 1 },
#undef EXPORT_COLUMNS
	/* ---- analytics (issue #12, sql/0015_analytics.sql) ---- */

	/* $1 user, $2 events [{i, eventId, type, campaignId, contentId, variant, occurredAt, value,
	 * quantity}] already checked for shape (api: analytics.c; import: the import-analytics job),
	 * $3 source (api | import); i is what errors name (an event's index, an import's line: several
	 * events may share one). Per event: the campaign must be the user's (an import names only
	 * contentId: its campaign is looked up), contentId an item of it, occurredAt inside the kept
	 * partitions and at most a day ahead; a repeated eventId (stored before, or earlier in the
	 * batch) is a duplicate. Good events go to analytics_events and analytics_pending and a
	 * rollup job is requested. {accepted, duplicates, errors: [{index: i, problem}]} */
	[STMT_ANALYTICS_INGEST] = { "analytics_ingest",
		"WITH input AS ("
		"  SELECT * FROM ROWS FROM (json_to_recordset($2::json) AS (i int, \"eventId\" text, type text,"
		"         \"campaignId\" uuid, \"contentId\" uuid, variant text, \"occurredAt\" timestamptz, value numeric,"
		"         quantity bigint)) WITH ORDINALITY AS e(i, \"eventId\", type, \"campaignId\", \"contentId\", variant,"
		"         \"occurredAt\", value, quantity, n)"
		"), owned AS ("
		"  SELECT c.id, c.content FROM campaigns c"
		"   WHERE c.user_id = $1::uuid AND (c.id IN (SELECT \"campaignId\" FROM input)"
		"                                   OR EXISTS (SELECT FROM input WHERE \"campaignId\" IS NULL))"
		"), items AS ("
		"  SELECT o.id AS campaign_id, x->>'id' AS content_id, x->>'platform' AS platform"
		"    FROM owned o CROSS JOIN LATERAL jsonb_array_elements(o.content) x"
		"), span AS MATERIALIZED ("  /* once, not per event */
		"  SELECT analytics_retained_from() AS lo, now() + interval '1 day' AS hi"
		"), checked AS ("
		"  SELECT DISTINCT ON (e.n) e.*, coalesce(e.\"campaignId\", it.campaign_id) AS campaign_id, it.platform,"
		"         CASE WHEN e.\"campaignId\" IS NOT NULL AND NOT EXISTS (SELECT FROM owned o WHERE o.id = e.\"campaignId\")"
		"                THEN 'campaignId: no such campaign'"
		"              WHEN e.\"campaignId\" IS NULL AND e.\"contentId\" IS NULL THEN 'contentId: required'"
		"              WHEN e.\"contentId\" IS NOT NULL AND it.campaign_id IS NULL"
		"                THEN CASE WHEN e.\"campaignId\" IS NULL THEN 'contentId: no such content item'"
		"                          ELSE 'contentId: not a content item of this campaign' END"
		"              WHEN s.lo IS NULL OR e.\"occurredAt\" < s.lo"
		"                THEN 'occurredAt: before ' || coalesce(rfc3339(s.lo), 'any kept month')"
		"                     || ', the start of the oldest month kept'"
		"              WHEN e.\"occurredAt\" >= s.hi THEN 'occurredAt: more than a day in the future'"
		"         END AS problem"
		"    FROM input e CROSS JOIN span s"
		"    LEFT JOIN items it ON it.content_id = e.\"contentId\"::text"
		"                      AND (e.\"campaignId\" IS NULL OR it.campaign_id = e.\"campaignId\")"
		"   ORDER BY e.n"
		"), good AS ("
		"  SELECT c.*, row_number() OVER (PARTITION BY c.\"eventId\" ORDER BY c.n) AS nth"
		"    FROM checked c WHERE c.problem IS NULL"
		"), keyed AS ("
		"  INSERT INTO analytics_event_keys (user_id, event_id)"
		"  SELECT $1::uuid, \"eventId\" FROM good WHERE \"eventId\" IS NOT NULL AND nth = 1"
		"  ON CONFLICT DO NOTHING RETURNING event_id"
		"), fresh AS ("
		"  SELECT g.* FROM good g"
		"   WHERE g.\"eventId\" IS NULL OR (g.nth = 1 AND g.\"eventId\" IN (SELECT event_id FROM keyed))"
		"), stored AS ("
		"  INSERT INTO analytics_events (user_id, campaign_id, content_id, variant, platform, type, quantity, value,"
		"                                occurred_at, source, event_id)"
		"  SELECT $1::uuid, campaign_id, \"contentId\", variant, platform, type, coalesce(quantity, 1), value,"
		"         \"occurredAt\", $3, \"eventId\" FROM fresh"
		"  RETURNING 1"
		"), pending AS ("
		"  INSERT INTO analytics_pending (user_id, campaign_id, content_id, variant, platform, type, quantity, value,"
		"                                 occurred_at)"
		"  SELECT $1::uuid, campaign_id, \"contentId\", variant, platform, type, coalesce(quantity, 1), value,"
		"         \"occurredAt\" FROM fresh"
		"  RETURNING 1"
		")"
		"SELECT json_build_object('accepted', (SELECT count(*) FROM stored),"
		"         'duplicates', (SELECT count(*) FROM good) - (SELECT count(*) FROM fresh),"
		"         'errors', coalesce((SELECT json_agg(json_build_object('index', i, 'problem', problem) ORDER BY n)"
		"                               FROM checked WHERE problem IS NOT NULL), '[]'))"
		"  FROM (SELECT count(*) FROM pending) p,"
		"       (SELECT count(*) FROM (SELECT analytics_rollup_request() WHERE EXISTS (SELECT FROM fresh)) r) q", 3 },

	/* $1 user, $2 the CSV: stages it and queues its import-analytics job */
	[STMT_ANALYTICS_IMPORT_ENQUEUE] = { "analytics_import_enqueue",
		"WITH i AS (INSERT INTO analytics_imports (user_id, body) VALUES ($1::uuid, $2) RETURNING *),"
		" j AS (INSERT INTO jobs (queue, kind, payload, user_id, max_attempts)"
		"       SELECT 'analytics-processing', 'import-analytics',"
		"              jsonb_build_object('importId', i.id, 'bytes', octet_length($2)), $1::uuid, 3 FROM i"
		"       RETURNING *)"
		"SELECT job_json(j), j.id FROM j", 2 },

	/* $1 import, $2 user, in the import's transaction: the CSV, deleted as it is read (no row: done) */
	[STMT_ANALYTICS_IMPORT_TAKE] = { "analytics_import_take",
		"DELETE FROM analytics_imports WHERE id = $1::uuid AND user_id = $2::uuid RETURNING body", 2 },

	/* $1 batch size: rolls up that many pending events; the campaign ids it touched (uuid[]) */
	[STMT_ANALYTICS_ROLLUP] = { "analytics_rollup", "SELECT analytics_rollup($1::int)::text", 1 },

	/* the worker's analytics maintenance (start-up, then every minute): today's partitions job
	 * (once per UTC day), and a rollup job when events are pending and none is queued */
	[STMT_ANALYTICS_TICK] = { "analytics_tick",
		"WITH part AS ("
		"  INSERT INTO jobs (queue, kind, idempotency_key, max_attempts)"
		"  VALUES ('analytics-processing', 'analytics-partitions',"
		"          'analytics-partitions:' || to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD'), 5)"
		"  ON CONFLICT (user_id, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING RETURNING 1)"
		"SELECT (SELECT count(*) FROM part),"
		"       (SELECT count(*) FROM (SELECT analytics_rollup_request()"
		"                               WHERE EXISTS (SELECT FROM analytics_pending)) r)", 0 },

	/* $1 months ahead: partitions made, and expired eventId keys deleted (at most 100000 a run) */
	[STMT_ANALYTICS_PARTITIONS] = { "analytics_partitions",
		"WITH gone AS ("
		"  DELETE FROM analytics_event_keys WHERE ctid = ANY (ARRAY("
		"    SELECT ctid FROM analytics_event_keys WHERE received_at < now() - interval '90 days' LIMIT 100000))"
		"  RETURNING 1)"
		"SELECT analytics_partitions_ensure($1::int), (SELECT count(*) FROM gone)", 1 },

	/* $1 user, $2 campaign, $3 from, $4 to (dates in $7, both included), $5 hour | day, $6 content |
	 * platform | variant | NULL, $7 IANA time zone. Hourly rollups (per campaign without groupBy), or
	 * daily ones for UTC days;
	 * every bucket of the range is a point (zeros included). No row: not the user's campaign. */
	[STMT_ANALYTICS_CAMPAIGN_REPORT] = { "analytics_campaign_report",
		"WITH c AS (SELECT id, currency FROM campaigns WHERE id = $2::uuid AND user_id = $1::uuid),"
		" span AS (SELECT $3::date::timestamp AT TIME ZONE $7 AS lo, ($4::date + 1)::timestamp AT TIME ZONE $7 AS hi),"
		" r AS ("
		"  SELECT h.bucket, h.content_id, h.variant, h.platform, h.impressions, h.opens, h.unique_opens, h.clicks,"
		"         h.unique_clicks, h.conversions, h.spend, h.revenue"
		"    FROM analytics_hourly h, c, span"
		"   WHERE h.campaign_id = c.id AND h.bucket >= span.lo AND h.bucket < span.hi"
		"     AND NOT ($5::text = 'day' AND $7::text = 'UTC') AND $6::text IS NOT NULL"
		"  UNION ALL"  /* without groupBy, the campaign's hours (0020): ~20x fewer rows than analytics_hourly */
		"  SELECT t.bucket, NULL, NULL, NULL, t.impressions, t.opens, t.unique_opens, t.clicks, t.unique_clicks,"
		"         t.conversions, t.spend, t.revenue"
		"    FROM analytics_campaign_hourly t, c, span"
		"   WHERE t.campaign_id = c.id AND t.bucket >= span.lo AND t.bucket < span.hi"
		"     AND NOT ($5::text = 'day' AND $7::text = 'UTC') AND $6::text IS NULL"
		"  UNION ALL"
		"  SELECT d.bucket, d.content_id, d.variant, d.platform, d.impressions, d.opens, d.unique_opens, d.clicks,"
		"         d.unique_clicks, d.conversions, d.spend, d.revenue"
		"    FROM analytics_daily d, c, span"
		"   WHERE d.campaign_id = c.id AND d.bucket >= span.lo AND d.bucket < span.hi"
		"     AND $5::text = 'day' AND $7::text = 'UTC'"
		"), b AS ("  /* per key and rollup bucket first: the labels are computed once per bucket */
		"  SELECT CASE $6::text WHEN 'content' THEN content_id::text WHEN 'platform' THEN platform"
		"                       WHEN 'variant' THEN variant ELSE 'all' END AS key, bucket,"
		"         sum(impressions) AS impressions, sum(opens) AS opens, sum(unique_opens) AS unique_opens,"
		"         sum(clicks) AS clicks, sum(unique_clicks) AS unique_clicks, sum(conversions) AS conversions,"
		"         sum(spend) AS spend, sum(revenue) AS revenue"
		"    FROM r GROUP BY 1, 2"
		"), g AS ("
		"  SELECT key, CASE WHEN $5::text = 'hour' THEN rfc3339(bucket)"
		"                   ELSE to_char(bucket AT TIME ZONE $7, 'YYYY-MM-DD') END AS t,"
		"         sum(impressions) AS impressions, sum(opens) AS opens, sum(unique_opens) AS unique_opens,"
		"         sum(clicks) AS clicks, sum(unique_clicks) AS unique_clicks, sum(conversions) AS conversions,"
		"         sum(spend) AS spend, sum(revenue) AS revenue"
		"    FROM b GROUP BY 1, 2"
		"), keys AS ("
		"  SELECT DISTINCT key FROM g UNION SELECT 'all' WHERE $6::text IS NULL"
		"), ts AS ("
		"  SELECT rfc3339(b) AS t FROM span, generate_series(span.lo, span.hi - interval '1 hour', interval '1 hour') b"
		"   WHERE $5::text = 'hour'"
		"  UNION ALL"
		"  SELECT to_char(d, 'YYYY-MM-DD') FROM generate_series($3::date, $4::date, interval '1 day') d"
		"   WHERE $5::text = 'day'"
		"), series AS ("
		"  SELECT keys.key, json_agg(jsonb_build_object('t', ts.t) || analytics_metrics(g.impressions, g.opens,"
		"           g.unique_opens, g.clicks, g.unique_clicks, g.conversions, g.spend, g.revenue) ORDER BY ts.t) AS points"
		"    FROM keys CROSS JOIN ts LEFT JOIN g ON g.key IS NOT DISTINCT FROM keys.key AND g.t = ts.t"
		"   GROUP BY keys.key"
		")"
		"SELECT json_build_object('campaignId', c.id, 'currency', c.currency, 'from', $3::text, 'to', $4::text,"
		"         'interval', $5::text, 'groupBy', $6::text, 'tz', $7::text,"
		"         'totals', (SELECT analytics_metrics(sum(impressions), sum(opens), sum(unique_opens), sum(clicks),"
		"                      sum(unique_clicks), sum(conversions), sum(spend), sum(revenue)) FROM g),"
		"         'series', coalesce((SELECT json_agg(json_build_object('key', key, 'points', points)"
		"                                      ORDER BY key NULLS FIRST) FROM series), '[]'))"
		"  FROM c", 7 },

	/* $1 user, $2 from, $3 to (UTC dates, both included): totals and one row per campaign with data */
	[STMT_ANALYTICS_OVERVIEW] = { "analytics_overview",
		"WITH r AS ("
		"  SELECT * FROM analytics_daily"
		"   WHERE user_id = $1::uuid AND bucket >= $2::date::timestamp AT TIME ZONE 'UTC'"
		"     AND bucket < ($3::date + 1)::timestamp AT TIME ZONE 'UTC'"
		"), g AS ("
		"  SELECT campaign_id, sum(impressions) AS impressions, sum(opens) AS opens, sum(unique_opens) AS unique_opens,"
		"         sum(clicks) AS clicks, sum(unique_clicks) AS unique_clicks, sum(conversions) AS conversions,"
		"         sum(spend) AS spend, sum(revenue) AS revenue"
		"    FROM r GROUP BY campaign_id"
		")"
		"SELECT json_build_object('from', $2::text, 'to', $3::text,"
		"  'totals', (SELECT analytics_metrics(sum(impressions), sum(opens), sum(unique_opens), sum(clicks),"
		"               sum(unique_clicks), sum(conversions), sum(spend), sum(revenue)) FROM r),"
		"  'campaigns', coalesce((SELECT json_agg(jsonb_build_object('campaignId', c.id, 'name', c.name,"
		"               'status', c.status, 'currency', c.currency) || analytics_metrics(g.impressions, g.opens,"
		"               g.unique_opens, g.clicks, g.unique_clicks, g.conversions, g.spend, g.revenue)"
		"             ORDER BY g.impressions DESC, c.id) FROM g JOIN campaigns c ON c.id = g.campaign_id), '[]'))", 3 },

	/* the IANA zone names PostgreSQL knows (read once per API process) */
	[STMT_TIMEZONE_NAMES] = { "timezone_names", "SELECT name FROM pg_timezone_names ORDER BY name", 0 },
	/* ---- issue #12 section 3: A/B tests (sql/0016_ab_tests.sql) ---- */

	/* $1 user, $2 campaign: {itemId: contentType} of its content items ({} when none); no row when not the user's */
	[STMT_AB_CAMPAIGN_ITEMS] = { "ab_campaign_items",
		"SELECT coalesce((SELECT json_object_agg(e->>'id', e->>'contentType') FROM jsonb_array_elements(c.content) e),"
		"                '{}')"
		"  FROM campaigns c WHERE c.id = $2::uuid AND c.user_id = $1::uuid", 2 },

	/* $1 user, $2 campaign, $3 name, $4 metric, $5 variants, $6 confidence, $7 mde, $8 power, $9 baseline,
	 * $10 required sample per variant. ACT01: a variant is not an item of the campaign */
	[STMT_AB_TEST_INSERT] = { "ab_test_insert",
		"INSERT INTO ab_tests AS t (user_id, campaign_id, name, metric, variants, confidence_level,"
		"                           minimum_detectable_effect, power, baseline_rate, required_sample_per_variant)"
		" SELECT c.user_id, c.id, $3, $4, $5::jsonb, $6::numeric, $7::numeric, $8::numeric, $9::numeric, $10::bigint"
		"   FROM campaigns c WHERE c.id = $2::uuid AND c.user_id = $1::uuid"
		" RETURNING ab_test_json(t)", 10 },

	/* $1 user, $2 campaign, $3 status or NULL, $4/$5 after, $6 limit */
	[STMT_AB_TEST_LIST] = { "ab_test_list",
		"SELECT ab_test_json(t), t.created_at::text, t.id FROM ab_tests t"
		" WHERE t.user_id = $1::uuid AND t.campaign_id = $2::uuid"
		"   AND ($3::text IS NULL OR t.status = $3)"
		"   AND ($4::timestamptz IS NULL OR (t.created_at, t.id) < ($4::timestamptz, $5::uuid))"
		" ORDER BY t.created_at DESC, t.id DESC LIMIT $6::int + 1", 6 },

	/* $1 user, $2 test: the test, and its campaign's {itemId: contentType} (PATCH checks variants against it) */
	[STMT_AB_TEST_GET] = { "ab_test_get",
		"SELECT ab_test_json(t),"
		"       coalesce((SELECT json_object_agg(e->>'id', e->>'contentType')"
		"                   FROM campaigns c, jsonb_array_elements(c.content) e WHERE c.id = t.campaign_id), '{}')"
		"  FROM ab_tests t WHERE t.id = $2::uuid AND t.user_id = $1::uuid", 2 },

	/* $1 user, $2 test, $3..$10 as ab_test_insert's: a draft's new definition; no row when
	 * it is not the user's or not a draft (the handler tells 404 from 409 with ab_test_status) */
	[STMT_AB_TEST_UPDATE] = { "ab_test_update",
		"UPDATE ab_tests t SET name = $3, metric = $4, variants = $5::jsonb, confidence_level = $6::numeric,"
		"       minimum_detectable_effect = $7::numeric, power = $8::numeric, baseline_rate = $9::numeric,"
		"       required_sample_per_variant = $10::bigint, updated_at = now()"
		" WHERE t.id = $2::uuid AND t.user_id = $1::uuid AND t.status = 'draft'"
		" RETURNING ab_test_json(t)", 10 },

	/* $1 user, $2 test: not while running; 23503 (sends_ab_test_fkey) while a send uses it */
	[STMT_AB_TEST_DELETE] = { "ab_test_delete",
		"DELETE FROM ab_tests WHERE id = $2::uuid AND user_id = $1::uuid AND status <> 'running' RETURNING 1", 2 },

	/* $1 user, $2 test: why a statement matched nothing */
	[STMT_AB_TEST_STATUS] = { "ab_test_status",
		"SELECT status FROM ab_tests WHERE id = $2::uuid AND user_id = $1::uuid", 2 },

	/* $1 user, $2 test, $3 start | stop: NULL when not the user's; 55000 when the move is not allowed */
	[STMT_AB_TEST_MOVE] = { "ab_test_move", "SELECT ab_test_move($1::uuid, $2::uuid, $3)", 3 },

	/* $1 user, $2 test, $3 variant key, $4 the owner's reason: a manual winner */
	[STMT_AB_TEST_PROMOTE] = { "ab_test_promote", "SELECT ab_test_promote($1::uuid, $2::uuid, $3, $4)", 4 },

	/* $1 test, $2 owner or NULL (the worker): one row per variant, in order, with its impressions and the
	 * metric's successes (unique opens, unique clicks, conversions) from analytics_hourly, by content item,
	 * from the hour the test started until it ended (abtest_load) */
	[STMT_AB_TEST_LOAD] = { "ab_test_load",
		"SELECT t.id, t.user_id, t.campaign_id, t.status, t.metric, t.confidence_level, t.baseline_rate,"
		"       t.minimum_detectable_effect, t.required_sample_per_variant, t.winner, t.winner_reason,"
		"       coalesce(array_to_string(t.min_p_values, ','), ''), v.e->>'key', v.e->>'contentId',"
		"       coalesce(sum(h.impressions), 0),"
		"       coalesce(sum(CASE t.metric WHEN 'open_rate' THEN h.unique_opens WHEN 'click_rate' THEN h.unique_clicks"
		"                                  ELSE h.conversions END), 0)"
		"  FROM ab_tests t CROSS JOIN LATERAL jsonb_array_elements(t.variants) WITH ORDINALITY AS v(e, n)"
		"  LEFT JOIN analytics_hourly h ON t.started_at IS NOT NULL AND h.campaign_id = t.campaign_id"
		"       AND h.content_id = (v.e->>'contentId')::uuid"
		"       AND h.bucket >= date_trunc('hour', t.started_at, 'UTC')"
		"       AND h.bucket < coalesce(t.ended_at, 'infinity')"
		" WHERE t.id = $1::uuid AND ($2::uuid IS NULL OR t.user_id = $2::uuid)"
		" GROUP BY t.id, v.n, v.e ORDER BY v.n", 2 },

	/* $1 campaign ids (uuid[] literal): their running tests, the re-evaluation after a rollup */
	[STMT_AB_TESTS_RUNNING] = { "ab_tests_running",
		"SELECT id FROM ab_tests WHERE campaign_id = ANY ($1::uuid[]) AND status = 'running' ORDER BY id", 1 },

	/* $1 test, $2 running minima (double precision[] literal) */
	[STMT_AB_TEST_STORE_P] = { "ab_test_store_p",
		"UPDATE ab_tests SET min_p_values = $2::double precision[] WHERE id = $1::uuid AND status = 'running'", 2 },

	/* $1 test, $2 winner key or NULL, $3 significant | timeout or NULL: {abTestId, campaignId, userId, winner,
	 * winnerReason}, or no row when it was no longer running */
	[STMT_AB_TEST_COMPLETE] = { "ab_test_complete",
		"SELECT j FROM ab_test_complete($1::uuid, $2, $3) AS j WHERE j IS NOT NULL", 3 },

	/* $1 send: its A/B test and whether it still runs, and whether the send still has recipients to
	 * give the winner to (the ab-send-winner job) */
	[STMT_AB_SEND_TEST] = { "ab_send_test",
		"SELECT t.id, t.status, s.status IN ('approved', 'scheduled', 'sending', 'paused')"
		"  FROM sends s JOIN ab_tests t ON t.id = s.ab_test_id WHERE s.id = $1::uuid", 1 },

	/* $1 user, $2 campaign, $3 test, $4 list, $5 scheduled at, $6..$8 sender, $9 test fraction, $10 winner after (s) */
	[STMT_SEND_CREATE_AB] = { "send_create_ab",
		"SELECT send_create_ab($1::uuid, $2::uuid, $3::uuid, $4::uuid, $5::timestamptz, $6, $7, $8, $9::numeric,"
		"                      $10::int)", 10 },

	/* GET /api/metrics: per queue, due and scheduled queued jobs, running jobs, and how long the
	 * job due longest has waited past its run_at (s). Only queued and running rows are read: the
	 * partial indexes on state keep it cheap whatever the finished jobs number. */
	[STMT_METRICS_QUEUES] = { "metrics_queues",
		"SELECT q.name,"
		"       count(j.id) FILTER (WHERE j.state = 'queued' AND j.run_at <= now()),"
		"       count(j.id) FILTER (WHERE j.state = 'queued' AND j.run_at > now()),"
		"       count(j.id) FILTER (WHERE j.state = 'running'),"
		"       coalesce(extract(epoch FROM now() - min(j.run_at) FILTER (WHERE j.state = 'queued'"
		"                                                              AND j.run_at <= now())), 0)"
		"  FROM job_queues q LEFT JOIN jobs j ON j.queue = q.name AND j.state IN ('queued', 'running')"
		" GROUP BY q.name ORDER BY q.name", 0 },
};
