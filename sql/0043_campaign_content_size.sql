-- 0043_campaign_content_size: a campaign's content may not grow past 4 MiB.
--
-- campaigns_content_check (0002) caps the items at 500, and each item's
-- fields have character limits (a Facebook post's body: 63,206), but
-- characters of four UTF-8 bytes made one item ~253 KB and a campaign
-- 127 MB: each append rewrote the whole row (2.5 s at 450 items), a 20-byte
-- PATCH of the campaign answered 127 MB in 3.5 s, and API processes kept
-- 130-360 MB after answering it. A generated campaign of 500 items is
-- under 1 MB.
--
-- Not a CHECK constraint: PostgreSQL evaluates every CHECK at every UPDATE,
-- and the only size it can read without detoasting is the stored one
-- (compressed), so a CHECK would either read the whole document at each
-- name edit or let a compressed document in that no edit could then
-- shrink. A row trigger on UPDATE OF content fires only when its WHEN sees
-- the new document (in memory, uncompressed: pg_column_size is its size)
-- above the limit, and then refuses it unless it drops items: a document
-- already over the limit can always be shrunk. The API maps the error, by
-- its constraint name, to 409; a generation job records the item as failed.

CREATE FUNCTION campaigns_content_size() RETURNS trigger
    LANGUAGE plpgsql
AS $$
BEGIN
    IF jsonb_array_length(NEW.content) >= jsonb_array_length(OLD.content) THEN
        RAISE EXCEPTION 'the campaign''s content would be % bytes; at most 4 MiB (4194304 bytes)',
              pg_column_size(NEW.content)
              USING ERRCODE = 'check_violation', TABLE = 'campaigns',
                    CONSTRAINT = 'campaigns_content_size_check';
    END IF;
    RETURN NEW;
END
$$;
COMMENT ON FUNCTION campaigns_content_size() IS 'Row trigger function of campaigns (BEFORE UPDATE OF content, when the new content is over 4 MiB): refuses the update unless it drops items, as a check_violation of campaigns_content_size_check.';

CREATE TRIGGER campaigns_content_size BEFORE UPDATE OF content ON campaigns
    FOR EACH ROW WHEN (pg_column_size(NEW.content) > 4194304)
    EXECUTE FUNCTION campaigns_content_size();
