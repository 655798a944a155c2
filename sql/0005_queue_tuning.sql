-- 0005_queue_tuning: keep the queue fast as finished jobs accumulate (measured by bench/queue.sh).

-- The idle worker's "when is the next job due?" walks this instead of every dead
-- entry of jobs_claim_idx (priority leads there, so min(run_at) could not use it).
CREATE INDEX jobs_due_idx ON jobs (run_at) WHERE state = 'queued';

-- Most jobs of the quick queues have no owner or campaign: partial indexes are not
-- touched by their claim and finish updates (-26% backend CPU per job, measured).
DROP INDEX jobs_user_idx;
CREATE INDEX jobs_user_idx ON jobs (user_id, created_at DESC, id DESC) WHERE user_id IS NOT NULL;
DROP INDEX jobs_campaign_idx;
CREATE INDEX jobs_campaign_idx ON jobs (campaign_id) WHERE campaign_id IS NOT NULL;

-- Every job leaves dead row versions behind; finished rows are kept, so the default
-- 20%-of-the-table trigger would wait longer and longer. Vacuum by count instead.
ALTER TABLE jobs SET (autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_threshold = 10000,
                      autovacuum_vacuum_cost_delay = 0, autovacuum_analyze_scale_factor = 0.05);
