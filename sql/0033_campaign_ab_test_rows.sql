-- 0033_campaign_ab_test_rows: each campaign counts its ab_tests rows
-- (issue #14: GET /api/campaigns/:id and the list page).
--
-- A campaign's abTests are its written entries (campaigns.ab_tests) and its
-- ab_tests rows. GET /api/campaigns/:id probed ab_tests_campaign_idx in a
-- subplan to know whether there are rows to render (0029), and every list
-- row counted them in another (abTestCount). Each subplan is a scan the
-- executor starts and ends per statement: on bench/api.sh's GET, the
-- probe's scan and subplan were ~8% of PostgreSQL's samples. The count is
-- now a column of the campaign, kept by a row trigger on ab_tests in the
-- writing transaction (like owner_summary, 0021): an insert adds one, a
-- delete takes one, a test moved to another campaign moves one; TRUNCATE
-- ab_tests zeroes them. Tests are created and deleted a few times in a
-- campaign's life; campaigns are read all the time.
--
-- The row lock the UPDATE takes is FOR NO KEY UPDATE: it does not conflict
-- with the KEY SHARE locks that rows referencing the campaign take, and two
-- tests added to one campaign at once queue on it only for the increment.
-- Whoever may write ab_tests (the API; the worker only changes a test's
-- status) may update campaigns, so the trigger runs with the writer's rights
-- (a cascade from a deleted user or campaign runs as the tables' owner).
-- No CHECK on the column: every CHECK of campaigns is parsed again at every
-- insert and update (PostgreSQL 15), and only the trigger writes it.

ALTER TABLE campaigns ADD COLUMN ab_test_rows integer NOT NULL DEFAULT 0;
COMMENT ON COLUMN campaigns.ab_test_rows IS 'Number of ab_tests rows of the campaign, kept by the ab_tests_campaign_rows trigger (0033). The API''s abTests are campaign_ab_test_list (written entries, then rows); abTestCount is jsonb_array_length(ab_tests) + ab_test_rows.';

UPDATE campaigns c SET ab_test_rows = t.n
  FROM (SELECT campaign_id, count(*) AS n FROM ab_tests GROUP BY campaign_id) AS t
 WHERE c.id = t.campaign_id;

CREATE FUNCTION ab_tests_campaign_rows() RETURNS trigger
    LANGUAGE plpgsql
AS $$
BEGIN
    IF TG_OP IN ('DELETE', 'UPDATE') THEN
        -- (a campaign being deleted takes its tests with it: no row to update)
        UPDATE campaigns SET ab_test_rows = ab_test_rows - 1 WHERE id = OLD.campaign_id;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        UPDATE campaigns SET ab_test_rows = ab_test_rows + 1 WHERE id = NEW.campaign_id;
    END IF;
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION ab_tests_campaign_rows() IS 'Row trigger function of ab_tests: keeps campaigns.ab_test_rows equal to the number of the campaign''s ab_tests rows (insert: +1, delete: -1, campaign_id changed: moved).';

CREATE TRIGGER ab_tests_campaign_rows AFTER INSERT OR DELETE ON ab_tests
    FOR EACH ROW EXECUTE FUNCTION ab_tests_campaign_rows();
CREATE TRIGGER ab_tests_campaign_rows_move AFTER UPDATE OF campaign_id ON ab_tests
    FOR EACH ROW WHEN (OLD.campaign_id IS DISTINCT FROM NEW.campaign_id)
    EXECUTE FUNCTION ab_tests_campaign_rows();

CREATE FUNCTION ab_tests_campaign_rows_truncate() RETURNS trigger
    LANGUAGE plpgsql
AS $$
BEGIN
    UPDATE campaigns SET ab_test_rows = 0 WHERE ab_test_rows <> 0;
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION ab_tests_campaign_rows_truncate() IS 'Statement trigger function of ab_tests: TRUNCATE ab_tests zeroes campaigns.ab_test_rows.';
CREATE TRIGGER ab_tests_campaign_rows_truncate AFTER TRUNCATE ON ab_tests
    FOR EACH STATEMENT EXECUTE FUNCTION ab_tests_campaign_rows_truncate();

-- The abTests part of a campaign's document: the rendered list when the
-- campaign has ab_tests rows, else its written entries. Inlined (one
-- expression): GET /api/campaigns/:id is campaign_document(c,
-- campaign_ab_tests_doc(c)) over one index scan of campaigns, no subplan.
CREATE FUNCTION campaign_ab_tests_doc(c campaigns) RETURNS text
    LANGUAGE sql STABLE PARALLEL SAFE
    RETURN CASE WHEN c.ab_test_rows > 0 THEN campaign_ab_tests_rendered(c.id, c.ab_tests) ELSE c.ab_tests::text END;
COMMENT ON FUNCTION campaign_ab_tests_doc(campaigns) IS 'A campaign''s abTests array as JSON text: campaign_ab_tests_rendered when it has ab_tests rows (ab_test_rows), else the written entries. Inlined.';
