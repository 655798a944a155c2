-- 0037_time_ordered_ids: the tables that grow by thousands of rows take
-- time-ordered ids too (uuid_v7(), 0036), so that an insert's primary-key
-- entry goes to the right edge of the index, not to a random leaf of an
-- index holding every row (issue #14 §2: create, WAL-friendly).
--
-- A random leaf is a page that has most likely not been changed since the
-- last checkpoint, so its change writes the whole 8 kB page to WAL. The API's
-- campaign INSERT (pgbench -M prepared, 4 clients, 10 s after a CHECKPOINT,
-- 1,000,000 other campaigns in the table, two runs each, same minutes):
--
--   ids                 WAL per insert   full-page images per insert
--   gen_random_uuid()   3,714 / 3,836 B  0.121 / 0.140
--   uuid_v7()           3,046 / 3,061 B  0.007 / 0.008
--
-- (campaigns_user_id_id_key, (user_id, id), gains the same: an owner's new
-- campaigns sit at the end of the owner's range.) contacts (imports),
-- send_recipients (a row per recipient of every send) and email_events (one
-- per delivery, open and click) grow the same way. Rows made before keep
-- their random ids; ids stay uuids with 74 random bits, and every link that
-- names one (unsubscribe, open, click) is signed as before.

ALTER TABLE campaigns ALTER COLUMN id SET DEFAULT uuid_v7();
ALTER TABLE contacts ALTER COLUMN id SET DEFAULT uuid_v7();
ALTER TABLE send_recipients ALTER COLUMN id SET DEFAULT uuid_v7();
ALTER TABLE email_events ALTER COLUMN id SET DEFAULT uuid_v7();

COMMENT ON COLUMN campaigns.id IS 'Public identifier: a UUID version 7 (uuid_v7(), creation time first; rows made before migration 0037 have random ids).';
COMMENT ON COLUMN contacts.id IS 'Public identifier: a UUID version 7 (uuid_v7(), creation time first; rows made before migration 0037 have random ids).';
COMMENT ON COLUMN send_recipients.id IS 'The recipient''s own id: what unsubscribe, open and click tokens name. A UUID version 7 (uuid_v7(); rows made before migration 0037 have random ids).';
COMMENT ON COLUMN email_events.id IS 'Row identifier: a UUID version 7 (uuid_v7(); rows made before migration 0037 have random ids).';
COMMENT ON FUNCTION uuid_v7() IS 'A UUID version 7 (RFC 9562): 48 bits of Unix time in milliseconds (clock_timestamp()), then version, variant and 74 random bits. Ids made later sort after (within a millisecond, in random order). The default id of jobs (0036), campaigns, contacts, send_recipients and email_events (0037).';
