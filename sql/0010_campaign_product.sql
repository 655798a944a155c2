-- 0010_campaign_product: what a campaign promotes, by name. Generators write it
-- into the copy ("Meet Acme Planner"); the campaign's own name is internal
-- ("Q3 spring launch") and is never used as the product's.

-- Functions whose bodies take a campaigns row pin its type: drop, alter, recreate.
DROP FUNCTION campaign_json(campaigns);
DROP FUNCTION campaign_summary_json(campaigns);

ALTER TABLE campaigns
    ADD COLUMN product text CHECK (char_length(product) BETWEEN 1 AND 100);
COMMENT ON COLUMN campaigns.product IS 'The product or offer the copy promotes, by name (API product, 1-100 characters); NULL: generators take it from the request, else write around it. Never the campaign name.';

CREATE FUNCTION campaign_json(c campaigns) RETURNS json
    LANGUAGE sql STABLE PARALLEL SAFE
    RETURN json_build_object(
        'id', c.id, 'userId', c.user_id, 'personaId', c.persona_id, 'brandProfileId', c.brand_profile_id,
        'name', c.name, 'product', c.product,
        'description', c.description, 'objective', c.objective, 'status', c.status,
        'budget', c.budget, 'currency', c.currency, 'startDate', c.start_date, 'endDate', c.end_date,
        'tone', c.tone, 'keywords', c.keywords, 'content', c.content, 'abTests', c.ab_tests,
        'generationSettings', c.generation_settings,
        'createdAt', rfc3339(c.created_at), 'updatedAt', rfc3339(c.updated_at));
COMMENT ON FUNCTION campaign_json(campaigns) IS 'API representation of a campaign, content included.';

CREATE FUNCTION campaign_summary_json(c campaigns) RETURNS json
    LANGUAGE sql STABLE PARALLEL SAFE
    RETURN json_build_object(
        'id', c.id, 'userId', c.user_id, 'personaId', c.persona_id, 'brandProfileId', c.brand_profile_id,
        'name', c.name, 'product', c.product,
        'description', c.description, 'objective', c.objective, 'status', c.status,
        'budget', c.budget, 'currency', c.currency, 'startDate', c.start_date, 'endDate', c.end_date,
        'tone', c.tone, 'keywords', c.keywords, 'generationSettings', c.generation_settings,
        'contentCount', jsonb_array_length(c.content), 'abTestCount', jsonb_array_length(c.ab_tests),
        'createdAt', rfc3339(c.created_at), 'updatedAt', rfc3339(c.updated_at));
COMMENT ON FUNCTION campaign_summary_json(campaigns) IS 'API list representation of a campaign: content and A/B tests counted, not included.';
