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

	/* $1 user, $2 body */
	[STMT_CAMPAIGN_INSERT] = { "campaign_insert",
		"INSERT INTO campaigns AS c (user_id, persona_id, name, description, objective, budget, currency,"
		"                            start_date, end_date, tone, keywords, ab_tests, generation_settings)"
		" SELECT $1::uuid, (b->>'personaId')::uuid, b->>'name', coalesce(b->>'description', ''), b->>'objective',"
		"        (b->>'budget')::numeric, coalesce(b->>'currency', 'USD'), (b->>'startDate')::date,"
		"        (b->>'endDate')::date, b->>'tone', b->>'keywords', ab_tests_with_ids(b->'abTests'),"
		"        coalesce(b->'generationSettings', '{}')"
		" FROM (SELECT $2::jsonb AS b) AS input"
		" RETURNING campaign_json(c)", 2 },

	/* $1 user, $2 status, $3 objective, $4 persona, $5 name search, $6/$7 after, $8 limit */
	[STMT_CAMPAIGN_LIST] = { "campaign_list",
		"SELECT campaign_summary_json(c), c.created_at::text, c.id FROM campaigns c"
		" WHERE c.user_id = $1::uuid"
		"   AND ($2::text IS NULL OR c.status = $2)"
		"   AND ($3::text IS NULL OR c.objective = $3)"
		"   AND ($4::uuid IS NULL OR c.persona_id = $4::uuid)"
		"   AND ($5::text IS NULL OR c.name ILIKE '%' || like_escape($5) || '%')"
		"   AND ($6::timestamptz IS NULL OR (c.created_at, c.id) < ($6::timestamptz, $7::uuid))"
		" ORDER BY c.created_at DESC, c.id DESC LIMIT $8::int + 1", 8 },

	/* $1 user, $2 campaign */
	[STMT_CAMPAIGN_GET] = { "campaign_get",
		"SELECT campaign_json(c) FROM campaigns c WHERE c.id = $2::uuid AND c.user_id = $1::uuid", 2 },

	/* $1 user, $2 campaign, $3 body, $4 replace. A status change must be a client move in
	 * campaign_status_transitions; otherwise no row is updated (the handler says 404 or 409). */
	[STMT_CAMPAIGN_UPDATE] = { "campaign_update",
		"UPDATE campaigns c SET"
		"  name = CASE WHEN $4 OR b ? 'name' THEN b->>'name' ELSE c.name END,"
		"  description = CASE WHEN $4 OR b ? 'description' THEN coalesce(b->>'description', '') ELSE c.description END,"
		"  objective = CASE WHEN $4 OR b ? 'objective' THEN b->>'objective' ELSE c.objective END,"
		"  persona_id = CASE WHEN $4 OR b ? 'personaId' THEN (b->>'personaId')::uuid ELSE c.persona_id END,"
		"  budget = CASE WHEN $4 OR b ? 'budget' THEN (b->>'budget')::numeric ELSE c.budget END,"
		"  currency = CASE WHEN $4 OR b ? 'currency' THEN coalesce(b->>'currency', 'USD') ELSE c.currency END,"
		"  start_date = CASE WHEN $4 OR b ? 'startDate' THEN (b->>'startDate')::date ELSE c.start_date END,"
		"  end_date = CASE WHEN $4 OR b ? 'endDate' THEN (b->>'endDate')::date ELSE c.end_date END,"
		"  tone = CASE WHEN $4 OR b ? 'tone' THEN b->>'tone' ELSE c.tone END,"
		"  keywords = CASE WHEN $4 OR b ? 'keywords' THEN b->>'keywords' ELSE c.keywords END,"
		"  ab_tests = CASE WHEN $4 OR b ? 'abTests' THEN ab_tests_with_ids(b->'abTests') ELSE c.ab_tests END,"
		"  generation_settings = CASE WHEN $4 OR b ? 'generationSettings'"
		"    THEN coalesce(b->'generationSettings', '{}') ELSE c.generation_settings END,"
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
	[STMT_CAMPAIGN_DELETE] = { "campaign_delete",
		"DELETE FROM campaigns WHERE id = $2::uuid AND user_id = $1::uuid", 2 },

	/* $1 user */
	[STMT_CAMPAIGN_STATS] = { "campaign_stats", "SELECT campaign_stats($1::uuid)", 1 },

	/* ---- content items ---- */

	/* $1 user, $2 campaign, $3 content id or NULL: scoring context and the current item */
	[STMT_CONTENT_CONTEXT] = { "content_context",
		"SELECT c.keywords, coalesce(to_json(p.interests || p.pain_points || p.goals), '[]'),"
		"       (SELECT e FROM jsonb_array_elements(c.content) e WHERE e->>'id' = $3)"
		"  FROM campaigns c LEFT JOIN personas p ON p.id = c.persona_id"
		" WHERE c.id = $2::uuid AND c.user_id = $1::uuid", 3 },

	/* $1 user, $2 campaign, $3 item without id and timestamps */
	[STMT_CONTENT_APPEND] = { "content_append",
		"WITH item AS (SELECT jsonb_set($3::jsonb, '{metadata,generatedAt}', to_jsonb(rfc3339(now())))"
		"                || jsonb_build_object('id', gen_random_uuid(),"
		"                   'createdAt', rfc3339(now()), 'updatedAt', rfc3339(now())) AS e)"
		"UPDATE campaigns c SET content = c.content || jsonb_build_array(item.e), updated_at = now()"
		"  FROM item WHERE c.id = $2::uuid AND c.user_id = $1::uuid"
		" RETURNING item.e", 3 },

	/* $1 user, $2 campaign, $3 contentType, $4 platform */
	[STMT_CONTENT_LIST] = { "content_list",
		"SELECT (SELECT coalesce(jsonb_agg(e ORDER BY n), '[]')"
		"          FROM jsonb_array_elements(c.content) WITH ORDINALITY AS t(e, n)"
		"         WHERE ($3::text IS NULL OR e->>'contentType' = $3)"
		"           AND ($4::text IS NULL OR e->>'platform' = $4))"
		"  FROM campaigns c WHERE c.id = $2::uuid AND c.user_id = $1::uuid", 4 },

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
};
