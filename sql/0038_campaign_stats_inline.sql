-- 0038_campaign_stats_inline: the stats and the dashboard read the owner's
-- summary in their own plan and write its JSON as text (issue #14 §2).
--
-- campaign_stats() (plpgsql, 0021) ran its query through SPI at every call,
-- and built its document with nine json_build_object() calls over ~40
-- values: json_build_object looks up each argument's type category and
-- output function in the system caches at every call. callgrind, 200
-- executions of the dashboard statement of an owner of 10,000 campaigns in
-- a single-user backend (instruction counts do not depend on the machine's
-- load): campaign_stats() was ~600,000 of the statement's ~1.96 million
-- instructions, json_build_object ~160,000 and its catalog look-ups
-- ~170,000.
--
-- campaign_stats_of() writes the same document as text from the sums
-- (integers and numerics printed by their output functions, the one string,
-- a currency, through to_json) and returns it as a set of one row:
-- PostgreSQL inlines a set-returning SQL function used in FROM (LANGUAGE sql,
-- STABLE, not strict, no SET, not SECURITY DEFINER), so its query is a
-- subquery of the stats and dashboard statements, planned once with them.
-- The document is the same JSON without the blanks json_build_object puts
-- around ':' and ','. campaign_stats(owner) stays, for DBAs, as that text
-- cast to json.

CREATE FUNCTION campaign_stats_of(owner uuid) RETURNS SETOF text
    LANGUAGE sql STABLE PARALLEL SAFE
BEGIN ATOMIC
SELECT '{"total":' || s.campaigns
       || ',"byStatus":{"draft":' || s.draft || ',"active":' || s.active
       || ',"generating":' || s.generating || ',"completed":' || s.completed
       || '},"byObjective":{"awareness":' || s.awareness || ',"consideration":' || s.consideration
       || ',"conversion":' || s.conversion
       || '},"budget":[' || array_to_string(ARRAY(
              SELECT '{"currency":' || to_json(b.currency) || ',"total":' || sum(b.total) || '}'
                FROM owner_budget b WHERE b.user_id = campaign_stats_of.owner
               GROUP BY b.currency HAVING sum(b.budgets) > 0 ORDER BY b.currency), ',')
       || '],"content":{"total":' || s.items
       || ',"byType":{"email":' || s.email || ',"social_post":' || s.social_post || ',"ad_copy":' || s.ad_copy
       || '},"byPlatform":{"email":' || s.p_email || ',"linkedin":' || s.linkedin || ',"twitter":' || s.twitter
       || ',"facebook":' || s.facebook || ',"instagram":' || s.instagram || ',"google_ads":' || s.google_ads
       || '},"averageQualityScore":' || CASE WHEN s.scored > 0 THEN round(s.score_sum / s.scored, 1)::text ELSE 'null' END
       || '}}'
  FROM (SELECT coalesce(sum(o.campaigns), 0) AS campaigns, coalesce(sum(o.draft), 0) AS draft,
               coalesce(sum(o.active), 0) AS active, coalesce(sum(o.generating), 0) AS generating,
               coalesce(sum(o.completed), 0) AS completed, coalesce(sum(o.awareness), 0) AS awareness,
               coalesce(sum(o.consideration), 0) AS consideration, coalesce(sum(o.conversion), 0) AS conversion,
               coalesce(sum(o.items), 0) AS items, coalesce(sum(o.email), 0) AS email,
               coalesce(sum(o.social_post), 0) AS social_post, coalesce(sum(o.ad_copy), 0) AS ad_copy,
               coalesce(sum(o.p_email), 0) AS p_email, coalesce(sum(o.linkedin), 0) AS linkedin,
               coalesce(sum(o.twitter), 0) AS twitter, coalesce(sum(o.facebook), 0) AS facebook,
               coalesce(sum(o.instagram), 0) AS instagram, coalesce(sum(o.google_ads), 0) AS google_ads,
               sum(o.scored) AS scored, sum(o.score_sum) AS score_sum
          FROM owner_summary o WHERE o.user_id = campaign_stats_of.owner) AS s;
END;
COMMENT ON FUNCTION campaign_stats_of(uuid) IS 'One owner''s campaign and content totals as the JSON text GET /api/campaigns/stats returns, a set of one row: inlined where it is used in FROM (the stats and dashboard statements), so the summary is read in the caller''s plan. Sums of the owner''s owner_summary and owner_budget slots.';

CREATE OR REPLACE FUNCTION campaign_stats(owner uuid) RETURNS json
    LANGUAGE plpgsql STABLE PARALLEL SAFE
AS $$
BEGIN
    RETURN (SELECT s.stats::json FROM campaign_stats_of(owner) AS s (stats));
END
$$;
COMMENT ON FUNCTION campaign_stats(uuid) IS 'Campaign and content totals for one owner, as GET /api/campaigns/stats returns them (campaign_stats_of(), which the API''s statements inline).';
