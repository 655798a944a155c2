-- 0036_jobs_time_ordered_ids: a job's id starts with its creation time
-- (UUID version 7, RFC 9562), so that the primary-key entries a job's life
-- writes sit together at the right edge of jobs_pkey (issue #14 §3).
--
-- A job writes three entries into jobs_pkey: its insert, its claim and its
-- finish (both are updates that change state, which partial indexes name,
-- so neither is a HOT update). With random ids (gen_random_uuid()) each of
-- them lands on a random leaf of an index that holds every job kept for
-- job_retention_days, and the first change of a page after a checkpoint
-- writes the whole page to WAL. bench/queue.sh, 20,000 no-op jobs, 4
-- processes x batch 500, a CHECKPOINT before the round: 1,190 bytes of WAL
-- and 0.031 full-page images a job with ~120,000 finished jobs in the table,
-- 2,888 bytes and 0.315 with 1,120,000. The new jobs' entries now share a
-- few leaves whatever the number kept.
--
-- Ids are still unique (74 random bits a millisecond) and still uuids: the
-- API's paths, the events' channels and every column that holds one are
-- unchanged. Jobs created before this migration keep their random ids.

CREATE FUNCTION uuid_v7() RETURNS uuid
    LANGUAGE sql VOLATILE PARALLEL SAFE
-- gen_random_uuid()'s 16 bytes with the first 6 replaced by the Unix time in
-- milliseconds (big-endian) and the version nibble set from 4 (0100) to 7 (0111).
RETURN encode(set_bit(set_bit(overlay(uuid_send(gen_random_uuid())
                                      PLACING substring(int8send((extract(epoch FROM clock_timestamp()) * 1000)::bigint) FROM 3)
                                      FROM 1 FOR 6), 52, 1), 53, 1), 'hex')::uuid;
COMMENT ON FUNCTION uuid_v7() IS 'A UUID version 7 (RFC 9562): 48 bits of Unix time in milliseconds (clock_timestamp()), then version, variant and 74 random bits. Ids made later sort after (within a millisecond, in random order). The default of jobs.id.';

ALTER TABLE jobs ALTER COLUMN id SET DEFAULT uuid_v7();
COMMENT ON COLUMN jobs.id IS 'Job id: a UUID version 7 (uuid_v7(): creation time first, so the index entries of recent jobs sit together); jobs created before migration 0036 have random (version 4) ids.';
