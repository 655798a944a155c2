-- 0039_check_domains: the one-column CHECKs of campaigns, owner_summary and
-- owner_budget become domains (issue #14 §2, create).
--
-- PostgreSQL 15 reads a table's CHECK constraints from their stored node text
-- (stringToNode) and plans them at the start of every INSERT and UPDATE
-- statement that writes the table, all of them whichever columns it sets. The
-- 14 checks of campaigns are ~12,000 characters of node text; with the slot
-- checks of owner_summary and owner_budget, whose rows the insert trigger
-- updates, that was 443,000 of a create's 1.47 million instructions
-- (callgrind, the API's INSERT in a single-user backend, 200 executions).
-- A domain's constraints are read once per session into the type cache, and
-- only the columns a statement sets are coerced to their domain.
--
-- The rules and, for campaigns, the constraint names are the same as before
-- (a violation names the domain's constraint; campaigns_content_check, which
-- the API maps to 409, stays a table CHECK). Two checks stay table CHECKs:
-- campaigns_dates_check (two columns) and campaigns_content_check (content
-- feeds four generated columns and campaigns_user_top_idx).
--
-- A column's type cannot change while a view, a rule, a trigger's WHEN, a
-- SQL-standard function body or a generated column reads it. The functions,
-- views and trigger below are saved as the catalog prints them (definition,
-- comments, privileges), dropped, and created again after the change;
-- json_head, the generated column that reads most of the columns, is added
-- again with its expression, compression and comment. Every dependent is named:
-- DROP without CASCADE fails the migration if something else reads them.
--
-- Cost: one rewrite of campaigns (the type changes and json_head are one ALTER
-- TABLE: one pass, every index rebuilt), then ANALYZE campaigns (the changed
-- columns lose their statistics). The rewrite holds an ACCESS EXCLUSIVE lock
-- on campaigns for its duration: 16.7 s for 100,000 campaigns (700 MB with
-- their TOAST) on the 2-CPU machine of docs/performance.md, so about three
-- minutes per million.

CREATE DOMAIN campaign_name AS text
    CONSTRAINT campaigns_name_check CHECK (length(VALUE) BETWEEN 1 AND 200);
CREATE DOMAIN campaign_product AS text
    CONSTRAINT campaigns_product_check CHECK (char_length(VALUE) BETWEEN 1 AND 100);
CREATE DOMAIN campaign_description AS text
    CONSTRAINT campaigns_description_check CHECK (length(VALUE) <= 5000);
CREATE DOMAIN campaign_objective AS text
    CONSTRAINT campaigns_objective_check CHECK (VALUE IN ('awareness', 'consideration', 'conversion'));
CREATE DOMAIN campaign_status AS text
    CONSTRAINT campaigns_status_check CHECK (VALUE IN ('draft', 'active', 'generating', 'completed'));
CREATE DOMAIN campaign_resume_status AS text
    CONSTRAINT campaigns_status_before_generation_check CHECK (VALUE IN ('draft', 'active', 'completed'));
CREATE DOMAIN campaign_currency AS text
    CONSTRAINT campaigns_currency_check CHECK (VALUE ~ '^[A-Z]{3}$');
CREATE DOMAIN campaign_tone AS text
    CONSTRAINT campaigns_tone_check CHECK (length(VALUE) <= 100);
CREATE DOMAIN campaign_keywords AS text
    CONSTRAINT campaigns_keywords_check CHECK (length(VALUE) <= 500);
CREATE DOMAIN campaign_budget AS numeric(14,2)
    CONSTRAINT campaigns_budget_check CHECK (VALUE >= 0);
CREATE DOMAIN jsonb_array AS jsonb
    CONSTRAINT jsonb_array_check CHECK (jsonb_typeof(VALUE) = 'array');
CREATE DOMAIN jsonb_object AS jsonb
    CONSTRAINT jsonb_object_check CHECK (jsonb_typeof(VALUE) = 'object');
CREATE DOMAIN owner_slot AS smallint
    CONSTRAINT owner_slot_check CHECK (VALUE BETWEEN 0 AND 7);

COMMENT ON DOMAIN campaign_name IS 'campaigns.name: 1 to 200 characters.';
COMMENT ON DOMAIN campaign_product IS 'campaigns.product: 1 to 100 characters.';
COMMENT ON DOMAIN campaign_description IS 'campaigns.description: at most 5,000 characters.';
COMMENT ON DOMAIN campaign_objective IS 'campaigns.objective: awareness, consideration or conversion.';
COMMENT ON DOMAIN campaign_status IS 'campaigns.status: draft, active, generating or completed (moves: campaign_status_transitions).';
COMMENT ON DOMAIN campaign_resume_status IS 'campaigns.status_before_generation: the status a campaign returns to when its generation ends (draft, active or completed).';
COMMENT ON DOMAIN campaign_currency IS 'campaigns.currency: three capital letters (ISO 4217; the API checks the code).';
COMMENT ON DOMAIN campaign_tone IS 'campaigns.tone: at most 100 characters.';
COMMENT ON DOMAIN campaign_keywords IS 'campaigns.keywords: at most 500 characters.';
COMMENT ON DOMAIN campaign_budget IS 'campaigns.budget: numeric(14,2), not negative.';
COMMENT ON DOMAIN jsonb_array IS 'A jsonb array (campaigns.ab_tests).';
COMMENT ON DOMAIN jsonb_object IS 'A jsonb object (campaigns.generation_settings).';
COMMENT ON DOMAIN owner_slot IS 'owner_summary.slot and owner_budget.slot: a stripe 0..7 (owner_summary_slot()).';

-- ---------------------------------------------------------------- saved

CREATE TEMP TABLE rebuilt (
    step      int GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    statement text NOT NULL
) ON COMMIT DROP;

-- Functions, in the order they are created again (each reads the ones before).
INSERT INTO rebuilt (statement)
SELECT s.statement
  FROM unnest('{"campaign_ab_tests(campaigns)", "campaign_ab_tests_doc(campaigns)",
                "campaign_summary_text(campaigns, bigint)", "campaign_summary_json(campaigns, bigint)",
                "campaign_summary_json(campaigns)", "campaign_document(campaigns, text)",
                "campaign_text(campaigns, jsonb)", "campaign_json(campaigns, jsonb)",
                "campaign_json(campaigns)"}'::regprocedure[]) WITH ORDINALITY AS f (fn, n)
 CROSS JOIN LATERAL (
        SELECT 1, pg_get_functiondef(f.fn)
        UNION ALL
        SELECT 2, format('COMMENT ON FUNCTION %s IS %L', f.fn, obj_description(f.fn, 'pg_proc'))
        UNION ALL
        SELECT 3, format('REVOKE ALL ON FUNCTION %s FROM PUBLIC', f.fn)
          FROM pg_proc p WHERE p.oid = f.fn AND p.proacl IS NOT NULL
        UNION ALL
        SELECT 4, format('GRANT EXECUTE ON FUNCTION %s TO %s', f.fn,
                         CASE a.grantee WHEN 0 THEN 'PUBLIC' ELSE a.grantee::regrole::text END)
          FROM pg_proc p, aclexplode(p.proacl) AS a
         WHERE p.oid = f.fn AND a.grantee <> p.proowner) AS s (k, statement)
 ORDER BY f.n, s.k;

-- Views: definition, comments (the view's and its columns'), privileges.
INSERT INTO rebuilt (statement)
SELECT s.statement
  FROM unnest('{campaign_content, campaign_summary}'::regclass[]) WITH ORDINALITY AS v (rel, n)
 CROSS JOIN LATERAL (
        SELECT 1, 0, format('CREATE VIEW %s AS %s', v.rel, pg_get_viewdef(v.rel))
        UNION ALL
        SELECT 2, 0, format('COMMENT ON VIEW %s IS %L', v.rel, obj_description(v.rel, 'pg_class'))
        UNION ALL
        SELECT 3, d.objsubid, format('COMMENT ON COLUMN %s.%I IS %L', v.rel, a.attname, d.description)
          FROM pg_description d JOIN pg_attribute a ON a.attrelid = d.objoid AND a.attnum = d.objsubid
         WHERE d.classoid = 'pg_class'::regclass AND d.objoid = v.rel AND d.objsubid > 0
        UNION ALL
        SELECT 4, 0, format('GRANT %s ON %s TO %s', a.privilege_type, v.rel,
                            CASE a.grantee WHEN 0 THEN 'PUBLIC' ELSE a.grantee::regrole::text END)
          FROM pg_class c, aclexplode(c.relacl) AS a
         WHERE c.oid = v.rel AND a.grantee <> c.relowner) AS s (k, sub, statement)
 ORDER BY v.n, s.k, s.sub;

-- The summary's update trigger: its WHEN reads status, objective, budget, currency.
INSERT INTO rebuilt (statement)
SELECT s.statement
  FROM pg_trigger t
 CROSS JOIN LATERAL (
        SELECT 1, pg_get_triggerdef(t.oid)
        UNION ALL
        SELECT 2, format('COMMENT ON TRIGGER %I ON campaigns IS %L', t.tgname, obj_description(t.oid, 'pg_trigger'))) AS s (k, statement)
 WHERE t.tgrelid = 'campaigns'::regclass AND t.tgname = 'campaigns_owner_summary_update'
 ORDER BY s.k;

INSERT INTO rebuilt (statement)
SELECT format('COMMENT ON COLUMN campaigns.json_head IS %L', col_description('campaigns'::regclass, a.attnum))
  FROM pg_attribute a WHERE a.attrelid = 'campaigns'::regclass AND a.attname = 'json_head';

-- ---------------------------------------------------------------- dropped

DROP VIEW campaign_content;
DROP VIEW campaign_summary;
DROP TRIGGER campaigns_owner_summary_update ON campaigns;
DROP FUNCTION campaign_json(campaigns), campaign_json(campaigns, jsonb), campaign_text(campaigns, jsonb),
              campaign_document(campaigns, text), campaign_summary_json(campaigns),
              campaign_summary_json(campaigns, bigint), campaign_summary_text(campaigns, bigint),
              campaign_ab_tests_doc(campaigns), campaign_ab_tests(campaigns);

-- ---------------------------------------------------------------- the types

ALTER TABLE campaigns
    DROP COLUMN json_head,
    DROP CONSTRAINT campaigns_name_check, ALTER COLUMN name TYPE campaign_name,
    DROP CONSTRAINT campaigns_product_check, ALTER COLUMN product TYPE campaign_product,
    DROP CONSTRAINT campaigns_description_check, ALTER COLUMN description TYPE campaign_description,
    DROP CONSTRAINT campaigns_objective_check, ALTER COLUMN objective TYPE campaign_objective,
    DROP CONSTRAINT campaigns_status_check, ALTER COLUMN status TYPE campaign_status,
    DROP CONSTRAINT campaigns_status_before_generation_check,
        ALTER COLUMN status_before_generation TYPE campaign_resume_status,
    DROP CONSTRAINT campaigns_currency_check, ALTER COLUMN currency TYPE campaign_currency,
    DROP CONSTRAINT campaigns_tone_check, ALTER COLUMN tone TYPE campaign_tone,
    DROP CONSTRAINT campaigns_keywords_check, ALTER COLUMN keywords TYPE campaign_keywords,
    DROP CONSTRAINT campaigns_budget_check, ALTER COLUMN budget TYPE campaign_budget,
    DROP CONSTRAINT campaigns_ab_tests_check, ALTER COLUMN ab_tests TYPE jsonb_array,
    DROP CONSTRAINT campaigns_generation_settings_check, ALTER COLUMN generation_settings TYPE jsonb_object,
    ADD COLUMN json_head text COMPRESSION lz4 GENERATED ALWAYS AS (
        campaign_json_head(id, user_id, persona_id, brand_profile_id, name, product, description, objective,
                           status, budget, currency, start_date, end_date, tone, keywords, generation_settings,
                           created_at, updated_at)) STORED;

ALTER TABLE owner_summary DROP CONSTRAINT owner_summary_slot_check, ALTER COLUMN slot TYPE owner_slot;
ALTER TABLE owner_budget DROP CONSTRAINT owner_budget_slot_check, ALTER COLUMN slot TYPE owner_slot;

-- ---------------------------------------------------------------- created again

DO $$
DECLARE
    s text;
BEGIN
    FOR s IN SELECT r.statement FROM rebuilt r ORDER BY r.step LOOP
        EXECUTE s;
    END LOOP;
END
$$;

ANALYZE campaigns;

-- Domains are owned like everything else of the schema (adcraft migrate runs this after each migration).
CREATE OR REPLACE FUNCTION adcraft_claim_ownership() RETURNS integer
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
        UNION ALL
        SELECT format('ALTER DOMAIN %s OWNER TO adcraft_owner', t.oid::regtype)
          FROM pg_type t
         WHERE t.typnamespace = 'public'::regnamespace AND t.typtype = 'd'
           AND t.typowner <> 'adcraft_owner'::regrole
           AND NOT EXISTS (SELECT FROM pg_depend d WHERE d.classid = 'pg_type'::regclass AND d.objid = t.oid
                                                     AND d.deptype = 'e')
    LOOP
        EXECUTE o.cmd;
        n := n + 1;
    END LOOP;
    RETURN n;
END
$$;
COMMENT ON FUNCTION adcraft_claim_ownership() IS 'Makes adcraft_owner the owner of every table, view, sequence, function and domain in schema public (extension members excepted); run by adcraft migrate after each migration. Returns how many objects changed owner.';
