-- 0034_json_text_splicing: cutting the brace off a JSON object's text by
-- bytes, not characters (issue #14 §2: the dashboard under wrk).
--
-- Responses are spliced from stored JSON text (0027, 0029): the dashboard
-- puts each top item's text after its campaign's id and name, so it drops the
-- item's opening brace (substr(item, 2)), and the stats object's closing one
-- (left(stats, -1)); json_head drops its closing brace when it is written.
-- On a UTF-8 database both count characters: substr to the end of the text
-- walks it character by character to know the length of what it returns.
-- perf under wrk on GET /api/campaigns/dashboard (seed-1, 10k campaigns of
-- ~2 KB of content each): 7% of PostgreSQL's samples were pg_utf_mblen.
-- The brace is one byte, first or last: cut it from the bytes
-- (textsend/substr on bytea/convert_from: copies and one fast UTF-8 check).
-- 1,000 items of seed-1's content_items (~2.1 KB each) x 100: 9.4-10.2 us
-- an item with substr(item, 2), 1.96 us with json_object_tail(item).
--
-- The dashboard also read each picked campaign's content_items once per item
-- (content_items[n]): a TOAST fetch and decompression of the whole array
-- every time (array_get_element -> detoast_attr: 4.5% of PostgreSQL's
-- samples). It now reads the items with ROWS FROM (jsonb_array_elements(content),
-- unnest(content_items)), each array once per campaign (src/core/statements.c).

CREATE FUNCTION json_object_tail(obj text) RETURNS text
    LANGUAGE sql STABLE PARALLEL SAFE STRICT
    RETURN convert_from(substr(textsend(obj), 2), 'UTF8');
COMMENT ON FUNCTION json_object_tail(text) IS 'The text of a JSON object after its opening brace (obj''s first byte, which must be ''{''), cut by bytes: substr(obj, 2) counts the characters of all of obj. Inlined.';

CREATE FUNCTION json_object_open(obj text) RETURNS text
    LANGUAGE sql STABLE PARALLEL SAFE STRICT
    RETURN convert_from(substr(textsend(obj), 1, octet_length(obj) - 1), 'UTF8');
COMMENT ON FUNCTION json_object_open(text) IS 'The text of a JSON object without its closing brace (obj''s last byte, which must be ''}''), cut by bytes: left(obj, -1) counts the characters of all of obj. Inlined when its argument is cheap (a column, a variable): it reads it twice.';

-- json_head is written with every insert and update of a campaign: the same
-- text as before (0027), the brace cut by bytes. Written out with catalog
-- functions only, not as json_object_open: a generated column's expression
-- also runs while pg_restore loads the table, with an empty search_path
-- (test_backup_restore.py), where only pg_catalog resolves.
CREATE OR REPLACE FUNCTION campaign_json_head(
        id uuid, user_id uuid, persona_id uuid, brand_profile_id uuid, name text, product text,
        description text, objective text, status text, budget numeric, currency text, start_date date,
        end_date date, tone text, keywords text, generation_settings jsonb, created_at timestamptz,
        updated_at timestamptz) RETURNS text
    LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
AS $$
DECLARE
    obj text;
BEGIN
    obj := json_build_object(
        'id', id, 'userId', user_id, 'personaId', persona_id, 'brandProfileId', brand_profile_id,
        'name', name, 'product', product, 'description', description, 'objective', objective,
        'status', status, 'budget', budget, 'currency', currency, 'startDate', start_date,
        'endDate', end_date, 'tone', tone, 'keywords', keywords, 'generationSettings', generation_settings,
        'createdAt', to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
        'updatedAt', to_char(updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'))::text;
    RETURN convert_from(substr(textsend(obj), 1, octet_length(obj) - 1), 'UTF8');
END
$$;
