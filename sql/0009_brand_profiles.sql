-- 0009_brand_profiles: brand voice profiles (issue #10 section 1). A profile
-- pins how a team sounds and what its copy must and must not say; campaigns
-- point at one (same owner, like personas), and generation and manual content
-- are held to it (src/gen/brand.c).

CREATE TABLE brand_profiles (
    id                   uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id              uuid        NOT NULL REFERENCES users ON DELETE CASCADE,
    name                 text        NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    description          text        NOT NULL DEFAULT '' CHECK (length(description) <= 5000),
    voice                text        NOT NULL DEFAULT '' CHECK (length(voice) <= 2000),
    formality            smallint    NOT NULL DEFAULT 3 CHECK (formality BETWEEN 1 AND 5),
    emoji_policy         text        NOT NULL DEFAULT 'sparing' CHECK (emoji_policy IN ('none', 'sparing', 'free')),
    reading_max_grade    smallint    CHECK (reading_max_grade BETWEEN 1 AND 20),
    preferred_terms      jsonb       NOT NULL DEFAULT '[]'
        CHECK (jsonb_typeof(preferred_terms) = 'array' AND jsonb_array_length(preferred_terms) <= 50),
    forbidden_terms      text[]      NOT NULL DEFAULT '{}' CHECK (cardinality(forbidden_terms) <= 100),
    competitors          text[]      NOT NULL DEFAULT '{}' CHECK (cardinality(competitors) <= 50),
    required_disclaimers jsonb       NOT NULL DEFAULT '[]'
        CHECK (jsonb_typeof(required_disclaimers) = 'array' AND jsonb_array_length(required_disclaimers) <= 10),
    examples             text[]      NOT NULL DEFAULT '{}' CHECK (cardinality(examples) <= 5),
    version              integer     NOT NULL DEFAULT 1 CHECK (version >= 1),
    created_at           timestamptz NOT NULL DEFAULT now(),
    updated_at           timestamptz NOT NULL DEFAULT now(),
    UNIQUE (user_id, id)  -- target of campaigns' same-owner foreign key
);
CREATE INDEX brand_profiles_user_list_idx ON brand_profiles (user_id, created_at DESC, id DESC);

COMMENT ON TABLE brand_profiles IS 'Brand voice profiles: voice, banned words, competitors, preferred terms and legal disclaimers that every generated or manual content item of a campaign using the profile is held to. Owned by one user.';
COMMENT ON COLUMN brand_profiles.id IS 'Public identifier.';
COMMENT ON COLUMN brand_profiles.user_id IS 'Owner; every API statement filters on it.';
COMMENT ON COLUMN brand_profiles.name IS 'Short label, 1 to 200 characters.';
COMMENT ON COLUMN brand_profiles.description IS 'What the profile is for, free text.';
COMMENT ON COLUMN brand_profiles.voice IS 'How the brand sounds, at most 2000 characters; put into LLM prompts.';
COMMENT ON COLUMN brand_profiles.formality IS '1 (casual) to 5 (formal); put into LLM prompts.';
COMMENT ON COLUMN brand_profiles.emoji_policy IS 'none (emoji are stripped), sparing (at most 2 per item) or free.';
COMMENT ON COLUMN brand_profiles.reading_max_grade IS 'Highest reading grade copy should need (readingLevel.maxGrade), optional.';
COMMENT ON COLUMN brand_profiles.preferred_terms IS 'Array of {term, replaces: [str]}: each listed word is replaced with term in content.';
COMMENT ON COLUMN brand_profiles.forbidden_terms IS 'Words that never appear in content (whole words, case-insensitive): replaced with a preferred term that replaces them, else removed.';
COMMENT ON COLUMN brand_profiles.competitors IS 'Competitor names, treated like forbidden terms.';
COMMENT ON COLUMN brand_profiles.required_disclaimers IS 'Array of {text, contentTypes?, platforms?}: each applicable one is present in every item (appended when missing, within the platform limit).';
COMMENT ON COLUMN brand_profiles.examples IS 'Up to 5 sample texts in the brand voice; put into LLM prompts.';
COMMENT ON COLUMN brand_profiles.version IS 'Starts at 1; every update adds 1 (brand_profiles_version trigger). Items record the version they were held to.';
COMMENT ON COLUMN brand_profiles.created_at IS 'Creation time; with id, the list order.';
COMMENT ON COLUMN brand_profiles.updated_at IS 'Last change.';

CREATE FUNCTION brand_profile_bump_version() RETURNS trigger
    LANGUAGE plpgsql
AS $$
BEGIN
    NEW.version := OLD.version + 1;
    NEW.updated_at := now();
    RETURN NEW;
END
$$;
COMMENT ON FUNCTION brand_profile_bump_version() IS 'Trigger function: every update of a brand profile increments its version and sets updated_at.';
CREATE TRIGGER brand_profiles_version BEFORE UPDATE ON brand_profiles
    FOR EACH ROW EXECUTE FUNCTION brand_profile_bump_version();

CREATE FUNCTION brand_profile_json(b brand_profiles) RETURNS json
    LANGUAGE sql STABLE PARALLEL SAFE
    RETURN json_build_object(
        'id', b.id, 'name', b.name, 'description', b.description, 'voice', b.voice,
        'formality', b.formality, 'emojiPolicy', b.emoji_policy,
        'readingLevel', json_build_object('maxGrade', b.reading_max_grade),
        'preferredTerms', b.preferred_terms, 'forbiddenTerms', b.forbidden_terms,
        'competitors', b.competitors, 'requiredDisclaimers', b.required_disclaimers,
        'examples', b.examples, 'version', b.version,
        'createdAt', rfc3339(b.created_at), 'updatedAt', rfc3339(b.updated_at));
COMMENT ON FUNCTION brand_profile_json(brand_profiles) IS 'API representation of a brand profile.';

------------------------------------------------------------------------------
-- campaigns.brand_profile_id
------------------------------------------------------------------------------
-- Functions whose bodies take a campaigns row pin its type: drop, alter, recreate.
DROP FUNCTION campaign_json(campaigns);
DROP FUNCTION campaign_summary_json(campaigns);

ALTER TABLE campaigns
    ADD COLUMN brand_profile_id uuid,
    -- A campaign's brand profile must belong to the campaign's owner; in use, it cannot be deleted.
    ADD CONSTRAINT campaigns_brand_profile_fkey FOREIGN KEY (user_id, brand_profile_id)
        REFERENCES brand_profiles (user_id, id);
CREATE INDEX campaigns_user_brand_profile_idx ON campaigns (user_id, brand_profile_id)
    WHERE brand_profile_id IS NOT NULL;
COMMENT ON COLUMN campaigns.brand_profile_id IS 'Brand profile (same owner) its content is held to, optional.';

CREATE FUNCTION campaign_json(c campaigns) RETURNS json
    LANGUAGE sql STABLE PARALLEL SAFE
    RETURN json_build_object(
        'id', c.id, 'userId', c.user_id, 'personaId', c.persona_id, 'brandProfileId', c.brand_profile_id,
        'name', c.name, 'description', c.description, 'objective', c.objective, 'status', c.status,
        'budget', c.budget, 'currency', c.currency, 'startDate', c.start_date, 'endDate', c.end_date,
        'tone', c.tone, 'keywords', c.keywords, 'content', c.content, 'abTests', c.ab_tests,
        'generationSettings', c.generation_settings,
        'createdAt', rfc3339(c.created_at), 'updatedAt', rfc3339(c.updated_at));
COMMENT ON FUNCTION campaign_json(campaigns) IS 'API representation of a campaign, content included.';

CREATE FUNCTION campaign_summary_json(c campaigns) RETURNS json
    LANGUAGE sql STABLE PARALLEL SAFE
    RETURN json_build_object(
        'id', c.id, 'userId', c.user_id, 'personaId', c.persona_id, 'brandProfileId', c.brand_profile_id,
        'name', c.name, 'description', c.description, 'objective', c.objective, 'status', c.status,
        'budget', c.budget, 'currency', c.currency, 'startDate', c.start_date, 'endDate', c.end_date,
        'tone', c.tone, 'keywords', c.keywords, 'generationSettings', c.generation_settings,
        'contentCount', jsonb_array_length(c.content), 'abTestCount', jsonb_array_length(c.ab_tests),
        'createdAt', rfc3339(c.created_at), 'updatedAt', rfc3339(c.updated_at));
COMMENT ON FUNCTION campaign_summary_json(campaigns) IS 'API list representation of a campaign: content and A/B tests counted, not included.';

------------------------------------------------------------------------------
-- grants (as in 0007_security: exactly what each role's statements use)
------------------------------------------------------------------------------
GRANT SELECT, INSERT, UPDATE, DELETE ON brand_profiles TO adcraft_api;
GRANT SELECT ON brand_profiles TO adcraft_worker;      -- generation context
GRANT SELECT ON brand_profiles TO adcraft_analyst;
