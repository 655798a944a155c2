-- 0002_campaigns: personas and campaigns, with content and A/B tests embedded as JSONB.
--
-- Scalar columns hold what is filtered and summed; JSONB holds the embedded
-- documents exactly as the API shows them (camelCase), so reads pass through.
-- The views at the end turn the JSONB back into rows for DBAs and analysts.

CREATE EXTENSION IF NOT EXISTS pg_trgm;

-- text[] from a JSON array of strings (NULL stays NULL).
CREATE FUNCTION jsonb_text_array(j jsonb) RETURNS text[]
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN CASE WHEN j IS NULL OR jsonb_typeof(j) = 'null' THEN NULL
                ELSE ARRAY(SELECT jsonb_array_elements_text(j)) END;
COMMENT ON FUNCTION jsonb_text_array(jsonb) IS 'Converts a JSON array of strings to text[].';

------------------------------------------------------------------------------
-- personas
------------------------------------------------------------------------------
CREATE TABLE personas (
    id                 uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id            uuid        NOT NULL REFERENCES users ON DELETE CASCADE,
    name               text        NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    description        text        NOT NULL DEFAULT '' CHECK (length(description) <= 5000),
    age_range          text        CHECK (length(age_range) <= 50),
    gender             text        CHECK (length(gender) <= 50),
    location           text        CHECK (length(location) <= 200),
    occupation         text        CHECK (length(occupation) <= 200),
    interests          text[]      NOT NULL DEFAULT '{}' CHECK (cardinality(interests) <= 50),
    pain_points        text[]      NOT NULL DEFAULT '{}' CHECK (cardinality(pain_points) <= 50),
    goals              text[]      NOT NULL DEFAULT '{}' CHECK (cardinality(goals) <= 50),
    preferred_channels text[]      NOT NULL DEFAULT '{}'
        CHECK (preferred_channels <@ ARRAY['email','linkedin','twitter','facebook','instagram','google_ads']),
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now(),
    UNIQUE (user_id, id)  -- target of campaigns' same-owner foreign key
);
CREATE INDEX personas_user_list_idx ON personas (user_id, created_at DESC, id DESC);

COMMENT ON TABLE personas IS 'Target audiences a campaign is written for. Owned by one user.';
COMMENT ON COLUMN personas.id IS 'Public identifier.';
COMMENT ON COLUMN personas.user_id IS 'Owner; every API statement filters on it.';
COMMENT ON COLUMN personas.name IS 'Short label, e.g. "Busy founder".';
COMMENT ON COLUMN personas.description IS 'Free-text portrait of the audience.';
COMMENT ON COLUMN personas.age_range IS 'Free text, e.g. "25-34".';
COMMENT ON COLUMN personas.gender IS 'Free text, optional.';
COMMENT ON COLUMN personas.location IS 'Region or city, optional.';
COMMENT ON COLUMN personas.occupation IS 'Job or role, optional.';
COMMENT ON COLUMN personas.interests IS 'What the audience cares about; used in generated copy.';
COMMENT ON COLUMN personas.pain_points IS 'Problems the product solves for them; used in generated copy.';
COMMENT ON COLUMN personas.goals IS 'What they want to achieve; used in generated copy.';
COMMENT ON COLUMN personas.preferred_channels IS 'Platforms where they are best reached.';
COMMENT ON COLUMN personas.created_at IS 'Creation time.';
COMMENT ON COLUMN personas.updated_at IS 'Last change.';

CREATE FUNCTION persona_json(p personas) RETURNS json
    LANGUAGE sql STABLE PARALLEL SAFE
    RETURN json_build_object(
        'id', p.id, 'name', p.name, 'description', p.description, 'ageRange', p.age_range,
        'gender', p.gender, 'location', p.location, 'occupation', p.occupation,
        'interests', p.interests, 'painPoints', p.pain_points, 'goals', p.goals,
        'preferredChannels', p.preferred_channels,
        'createdAt', rfc3339(p.created_at), 'updatedAt', rfc3339(p.updated_at));
COMMENT ON FUNCTION persona_json(personas) IS 'API representation of a persona.';

------------------------------------------------------------------------------
-- campaigns
------------------------------------------------------------------------------
CREATE TABLE campaign_status_transitions (
    from_status text NOT NULL,
    to_status   text NOT NULL,
    actor       text NOT NULL CHECK (actor IN ('client', 'system')),
    PRIMARY KEY (from_status, to_status, actor)
);
INSERT INTO campaign_status_transitions VALUES
    ('draft', 'active', 'client'),
    ('active', 'draft', 'client'),
    ('active', 'completed', 'client'),
    ('draft', 'generating', 'system'),
    ('active', 'generating', 'system'),
    ('completed', 'generating', 'system'),
    ('generating', 'draft', 'system'),
    ('generating', 'active', 'system'),
    ('generating', 'completed', 'system');
COMMENT ON TABLE campaign_status_transitions IS 'The campaign status machine: which status may follow which, and who may make the move (client = API caller, system = generation jobs).';
COMMENT ON COLUMN campaign_status_transitions.from_status IS 'Current status.';
COMMENT ON COLUMN campaign_status_transitions.to_status IS 'Next status.';
COMMENT ON COLUMN campaign_status_transitions.actor IS 'client or system.';

CREATE TABLE campaigns (
    id                  uuid          PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id             uuid          NOT NULL REFERENCES users ON DELETE CASCADE,
    persona_id          uuid,
    name                text          NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    description         text          NOT NULL DEFAULT '' CHECK (length(description) <= 5000),
    objective           text          NOT NULL CHECK (objective IN ('awareness', 'consideration', 'conversion')),
    status              text          NOT NULL DEFAULT 'draft'
        CHECK (status IN ('draft', 'active', 'generating', 'completed')),
    budget              numeric(14,2) CHECK (budget >= 0),
    currency            text          NOT NULL DEFAULT 'USD' CHECK (currency ~ '^[A-Z]{3}$'),
    start_date          date,
    end_date            date,
    tone                text          CHECK (length(tone) <= 100),
    keywords            text          CHECK (length(keywords) <= 500),
    content             jsonb         NOT NULL DEFAULT '[]'
        CONSTRAINT campaigns_content_check CHECK (jsonb_typeof(content) = 'array' AND jsonb_array_length(content) <= 500),
    ab_tests            jsonb         NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(ab_tests) = 'array'),
    generation_settings jsonb         NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(generation_settings) = 'object'),
    created_at          timestamptz   NOT NULL DEFAULT now(),
    updated_at          timestamptz   NOT NULL DEFAULT now(),
    CONSTRAINT campaigns_dates_check CHECK (end_date >= start_date),
    -- A campaign's persona must belong to the campaign's owner; in use, it cannot be deleted.
    CONSTRAINT campaigns_persona_fkey FOREIGN KEY (user_id, persona_id) REFERENCES personas (user_id, id)
);
CREATE INDEX campaigns_user_list_idx ON campaigns (user_id, created_at DESC, id DESC);
CREATE INDEX campaigns_user_status_idx ON campaigns (user_id, status, created_at DESC, id DESC);
CREATE INDEX campaigns_user_objective_idx ON campaigns (user_id, objective, created_at DESC, id DESC);
CREATE INDEX campaigns_user_persona_idx ON campaigns (user_id, persona_id, created_at DESC, id DESC);
CREATE INDEX campaigns_name_trgm_idx ON campaigns USING gin (name gin_trgm_ops);
CREATE INDEX campaigns_content_idx ON campaigns USING gin (content jsonb_path_ops);

COMMENT ON TABLE campaigns IS 'Marketing campaigns. Content items and A/B tests are embedded JSONB arrays; see the campaign_content view for content as rows.';
COMMENT ON COLUMN campaigns.id IS 'Public identifier.';
COMMENT ON COLUMN campaigns.user_id IS 'Owner; every API statement filters on it.';
COMMENT ON COLUMN campaigns.persona_id IS 'Target persona (same owner), optional.';
COMMENT ON COLUMN campaigns.name IS 'Campaign name, 1 to 200 characters; trigram-indexed for search.';
COMMENT ON COLUMN campaigns.description IS 'What the campaign promotes; feeds generation.';
COMMENT ON COLUMN campaigns.objective IS 'awareness, consideration or conversion.';
COMMENT ON COLUMN campaigns.status IS 'draft, active, generating or completed; moves follow campaign_status_transitions.';
COMMENT ON COLUMN campaigns.budget IS 'Planned spend in currency, two decimals.';
COMMENT ON COLUMN campaigns.currency IS 'ISO 4217 code.';
COMMENT ON COLUMN campaigns.start_date IS 'First day the campaign runs.';
COMMENT ON COLUMN campaigns.end_date IS 'Last day; not before start_date.';
COMMENT ON COLUMN campaigns.tone IS 'Voice for generated copy, e.g. "friendly, confident".';
COMMENT ON COLUMN campaigns.keywords IS 'Comma-separated keywords that copy should cover.';
COMMENT ON COLUMN campaigns.content IS 'Array of content items as the API returns them: {id, contentType, platform, subjectLine, preheader, contentBody, callToAction, hashtags, visualUrl, qualityScore, qualityBreakdown, metadata, createdAt, updatedAt}.';
COMMENT ON COLUMN campaigns.ab_tests IS 'Array of A/B tests: {id, testName, testType, status, variantA, variantB, winner, startDate}.';
COMMENT ON COLUMN campaigns.generation_settings IS 'Defaults for generation jobs: {contentTypes, platforms, creativityLevel, includeVisuals, customInstructions, variations}.';
COMMENT ON COLUMN campaigns.created_at IS 'Creation time; with id, the list order.';
COMMENT ON COLUMN campaigns.updated_at IS 'Last change to any column.';

-- Full representation (GET one). Content and A/B tests pass through as stored.
CREATE FUNCTION campaign_json(c campaigns) RETURNS json
    LANGUAGE sql STABLE PARALLEL SAFE
    RETURN json_build_object(
        'id', c.id, 'userId', c.user_id, 'personaId', c.persona_id, 'name', c.name,
        'description', c.description, 'objective', c.objective, 'status', c.status,
        'budget', c.budget, 'currency', c.currency, 'startDate', c.start_date, 'endDate', c.end_date,
        'tone', c.tone, 'keywords', c.keywords, 'content', c.content, 'abTests', c.ab_tests,
        'generationSettings', c.generation_settings,
        'createdAt', rfc3339(c.created_at), 'updatedAt', rfc3339(c.updated_at));
COMMENT ON FUNCTION campaign_json(campaigns) IS 'API representation of a campaign, content included.';

-- List representation: everything but the embedded arrays, which are counted instead.
CREATE FUNCTION campaign_summary_json(c campaigns) RETURNS json
    LANGUAGE sql STABLE PARALLEL SAFE
    RETURN json_build_object(
        'id', c.id, 'userId', c.user_id, 'personaId', c.persona_id, 'name', c.name,
        'description', c.description, 'objective', c.objective, 'status', c.status,
        'budget', c.budget, 'currency', c.currency, 'startDate', c.start_date, 'endDate', c.end_date,
        'tone', c.tone, 'keywords', c.keywords, 'generationSettings', c.generation_settings,
        'contentCount', jsonb_array_length(c.content), 'abTestCount', jsonb_array_length(c.ab_tests),
        'createdAt', rfc3339(c.created_at), 'updatedAt', rfc3339(c.updated_at));
COMMENT ON FUNCTION campaign_summary_json(campaigns) IS 'API list representation of a campaign: content and A/B tests counted, not included.';

CREATE FUNCTION like_escape(q text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
    RETURN replace(replace(replace(q, '\', '\\'), '%', '\%'), '_', '\_');
COMMENT ON FUNCTION like_escape(text) IS 'Escapes LIKE wildcards so user text matches literally.';

-- Gives every A/B test an id; tests that already have one keep it.
CREATE FUNCTION ab_tests_with_ids(tests jsonb) RETURNS jsonb
    LANGUAGE sql VOLATILE PARALLEL SAFE
    RETURN CASE WHEN jsonb_typeof(tests) = 'array' THEN
        coalesce((SELECT jsonb_agg(CASE WHEN t ? 'id' THEN t ELSE t || jsonb_build_object('id', gen_random_uuid()) END
                                   ORDER BY n)
                    FROM jsonb_array_elements(tests) WITH ORDINALITY AS x(t, n)), '[]')
        ELSE '[]' END;
COMMENT ON FUNCTION ab_tests_with_ids(jsonb) IS 'Assigns a UUID to each A/B test that has none.';

-- GET /api/campaigns/stats: one user's totals, computed in one pass over their campaigns.
CREATE FUNCTION campaign_stats(owner uuid) RETURNS json
    LANGUAGE sql STABLE PARALLEL SAFE
AS $$
WITH mine AS MATERIALIZED (
    SELECT status, objective, budget, currency, content FROM campaigns WHERE user_id = owner
), counts AS (
    SELECT count(*) AS total,
           count(*) FILTER (WHERE status = 'draft')            AS draft,
           count(*) FILTER (WHERE status = 'active')           AS active,
           count(*) FILTER (WHERE status = 'generating')       AS generating,
           count(*) FILTER (WHERE status = 'completed')        AS completed,
           count(*) FILTER (WHERE objective = 'awareness')     AS awareness,
           count(*) FILTER (WHERE objective = 'consideration') AS consideration,
           count(*) FILTER (WHERE objective = 'conversion')    AS conversion
      FROM mine
), budgets AS (
    SELECT coalesce(json_agg(json_build_object('currency', currency, 'total', total) ORDER BY currency), '[]') AS list
      FROM (SELECT currency, sum(budget) AS total FROM mine WHERE budget IS NOT NULL GROUP BY currency) b
), items AS (
    SELECT e->>'contentType' AS type, e->>'platform' AS platform, (e->>'qualityScore')::numeric AS score
      FROM mine CROSS JOIN LATERAL jsonb_array_elements(mine.content) AS e
), content AS (
    SELECT count(*) AS total,
           count(*) FILTER (WHERE type = 'email')          AS email,
           count(*) FILTER (WHERE type = 'social_post')    AS social_post,
           count(*) FILTER (WHERE type = 'ad_copy')        AS ad_copy,
           count(*) FILTER (WHERE platform = 'email')      AS p_email,
           count(*) FILTER (WHERE platform = 'linkedin')   AS linkedin,
           count(*) FILTER (WHERE platform = 'twitter')    AS twitter,
           count(*) FILTER (WHERE platform = 'facebook')   AS facebook,
           count(*) FILTER (WHERE platform = 'instagram')  AS instagram,
           count(*) FILTER (WHERE platform = 'google_ads') AS google_ads,
           round(avg(score), 1)                            AS average
      FROM items
)
SELECT json_build_object(
    'total', c.total,
    'byStatus', json_build_object('draft', c.draft, 'active', c.active, 'generating', c.generating,
                                  'completed', c.completed),
    'byObjective', json_build_object('awareness', c.awareness, 'consideration', c.consideration,
                                     'conversion', c.conversion),
    'budget', b.list,
    'content', json_build_object(
        'total', i.total,
        'byType', json_build_object('email', i.email, 'social_post', i.social_post, 'ad_copy', i.ad_copy),
        'byPlatform', json_build_object('email', i.p_email, 'linkedin', i.linkedin, 'twitter', i.twitter,
                                        'facebook', i.facebook, 'instagram', i.instagram,
                                        'google_ads', i.google_ads),
        'averageQualityScore', i.average))
  FROM counts c, budgets b, content i
$$;
COMMENT ON FUNCTION campaign_stats(uuid) IS 'Campaign and content totals for one owner, as GET /api/campaigns/stats returns them.';

------------------------------------------------------------------------------
-- views for DBAs and analysts
------------------------------------------------------------------------------
CREATE VIEW campaign_content AS
SELECT c.id                                        AS campaign_id,
       c.user_id,
       c.name                                      AS campaign_name,
       c.objective,
       c.status                                    AS campaign_status,
       (item->>'id')::uuid                         AS content_id,
       e.ordinality::int                           AS position,
       item->>'contentType'                        AS content_type,
       item->>'platform'                           AS platform,
       item->>'subjectLine'                        AS subject_line,
       item->>'contentBody'                        AS content_body,
       item->>'callToAction'                       AS call_to_action,
       jsonb_text_array(item->'hashtags')          AS hashtags,
       (item->>'qualityScore')::int                AS quality_score,
       item->'metadata'->>'generatedBy'            AS generated_by,
       item->'metadata'->>'model'                  AS model,
       (item->'metadata'->>'jobId')::uuid          AS job_id,
       (item->'metadata'->>'generatedAt')::timestamptz AS generated_at,
       (item->>'createdAt')::timestamptz           AS created_at,
       (item->>'updatedAt')::timestamptz           AS updated_at
  FROM campaigns c
 CROSS JOIN LATERAL jsonb_array_elements(c.content) WITH ORDINALITY AS e(item, ordinality);
COMMENT ON VIEW campaign_content IS 'One row per content item of every campaign, with typed columns.';
COMMENT ON COLUMN campaign_content.campaign_id IS 'The campaign holding the item.';
COMMENT ON COLUMN campaign_content.user_id IS 'Owner of the campaign.';
COMMENT ON COLUMN campaign_content.campaign_name IS 'Campaign name.';
COMMENT ON COLUMN campaign_content.objective IS 'Campaign objective.';
COMMENT ON COLUMN campaign_content.campaign_status IS 'Campaign status.';
COMMENT ON COLUMN campaign_content.content_id IS 'The item''s stable id.';
COMMENT ON COLUMN campaign_content.position IS '1-based position in the campaign''s content array.';
COMMENT ON COLUMN campaign_content.content_type IS 'email, social_post or ad_copy.';
COMMENT ON COLUMN campaign_content.platform IS 'email, linkedin, twitter, facebook, instagram or google_ads.';
COMMENT ON COLUMN campaign_content.subject_line IS 'Email subject or headline.';
COMMENT ON COLUMN campaign_content.content_body IS 'The copy itself.';
COMMENT ON COLUMN campaign_content.call_to_action IS 'Call to action text.';
COMMENT ON COLUMN campaign_content.hashtags IS 'Hashtags, for social platforms.';
COMMENT ON COLUMN campaign_content.quality_score IS 'Server-computed score, 0 to 100.';
COMMENT ON COLUMN campaign_content.generated_by IS 'ai, builtin or manual.';
COMMENT ON COLUMN campaign_content.model IS 'Model that wrote it, when generated.';
COMMENT ON COLUMN campaign_content.job_id IS 'Generation job, when generated by one.';
COMMENT ON COLUMN campaign_content.generated_at IS 'When it was written.';
COMMENT ON COLUMN campaign_content.created_at IS 'When it was added to the campaign.';
COMMENT ON COLUMN campaign_content.updated_at IS 'Last edit.';

CREATE VIEW campaign_summary AS
SELECT c.id                                   AS campaign_id,
       c.user_id,
       u.email                                AS owner_email,
       c.name,
       c.objective,
       c.status,
       c.budget,
       c.currency,
       c.start_date,
       c.end_date,
       p.name                                 AS persona_name,
       jsonb_array_length(c.content)          AS content_items,
       (SELECT round(avg((i->>'qualityScore')::numeric), 1)
          FROM jsonb_array_elements(c.content) i) AS average_quality_score,
       jsonb_array_length(c.ab_tests)         AS ab_tests,
       c.created_at,
       c.updated_at
  FROM campaigns c
  JOIN users u ON u.id = c.user_id
  LEFT JOIN personas p ON p.id = c.persona_id;
COMMENT ON VIEW campaign_summary IS 'One row per campaign with its owner, persona and content totals.';
COMMENT ON COLUMN campaign_summary.campaign_id IS 'Campaign id.';
COMMENT ON COLUMN campaign_summary.user_id IS 'Owner id.';
COMMENT ON COLUMN campaign_summary.owner_email IS 'Owner''s sign-in email.';
COMMENT ON COLUMN campaign_summary.name IS 'Campaign name.';
COMMENT ON COLUMN campaign_summary.objective IS 'Objective.';
COMMENT ON COLUMN campaign_summary.status IS 'Status.';
COMMENT ON COLUMN campaign_summary.budget IS 'Budget.';
COMMENT ON COLUMN campaign_summary.currency IS 'Budget currency.';
COMMENT ON COLUMN campaign_summary.start_date IS 'Start date.';
COMMENT ON COLUMN campaign_summary.end_date IS 'End date.';
COMMENT ON COLUMN campaign_summary.persona_name IS 'Target persona''s name, if any.';
COMMENT ON COLUMN campaign_summary.content_items IS 'Number of content items.';
COMMENT ON COLUMN campaign_summary.average_quality_score IS 'Mean quality score of its content.';
COMMENT ON COLUMN campaign_summary.ab_tests IS 'Number of A/B tests.';
COMMENT ON COLUMN campaign_summary.created_at IS 'Creation time.';
COMMENT ON COLUMN campaign_summary.updated_at IS 'Last change.';

GRANT SELECT, INSERT, UPDATE, DELETE ON personas, campaigns TO adcraft_api;
GRANT SELECT ON campaign_content, campaign_summary TO adcraft_api;
GRANT SELECT ON campaign_status_transitions TO adcraft_api, adcraft_worker, adcraft_analyst;
GRANT SELECT, UPDATE ON campaigns TO adcraft_worker;
GRANT SELECT ON personas TO adcraft_worker;
GRANT SELECT ON personas, campaigns, campaign_content, campaign_summary TO adcraft_analyst;
