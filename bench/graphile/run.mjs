// bench/graphile/run.mjs: graphile-worker's side of bench/queue.sh.
//
//   node run.mjs CONNECTION_STRING JOBS CONCURRENCY LOCAL_QUEUE COMPLETE_DELAY_MS
//
// Installs graphile-worker's schema (graphile_worker) in the database, enqueues
// JOBS no-op jobs in one add_jobs() call, then starts one worker pool with a
// no-op task, tuned as worker.graphile.org/docs/performance says (localQueue
// size, completeJobBatchDelay/failJobBatchDelay), and measures the time from
// the pool's start until the last job is gone from graphile_worker's job table
// (graphile-worker deletes a job when it completes). Prints "jobs_s N".
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const { run, makeWorkerUtils } = require("graphile-worker");
const pg = require("pg");

const [connectionString, jobsArg, concArg, lqArg, delayArg] = process.argv.slice(2);
const jobs = Number(jobsArg), concurrency = Number(concArg), localQueue = Number(lqArg), delay = Number(delayArg);
if (!connectionString || !(jobs > 0) || !(concurrency > 0) || !(localQueue >= -1) || !(delay >= -1)) {
	console.error("usage: node run.mjs CONNECTION_STRING JOBS CONCURRENCY LOCAL_QUEUE COMPLETE_DELAY_MS");
	process.exit(2);
}
const silent = process.env.GRAPHILE_DEBUG ? undefined : new (require("graphile-worker").Logger)(() => () => {});

const utils = await makeWorkerUtils({ connectionString, logger: silent });
await utils.migrate();
await utils.release();

const client = new pg.Client({ connectionString });
await client.connect();
await client.query("TRUNCATE graphile_worker._private_jobs CASCADE");
await client.query(
	`SELECT count(*) FROM graphile_worker.add_jobs(
	   array(SELECT ('noop', '{}'::json, NULL, NULL, NULL, NULL, NULL, NULL)::graphile_worker.job_spec
	           FROM generate_series(1, $1)))`, [jobs]);
await client.query("ANALYZE graphile_worker._private_jobs");

const t0 = process.hrtime.bigint();
const runner = await run({
	connectionString,
	concurrency,
	maxPoolSize: concurrency + 2,
	noHandleSignals: true,
	pollInterval: 2000,
	logger: silent,
	preset: {
		worker: {
			localQueue: { size: localQueue },
			completeJobBatchDelay: delay,
			failJobBatchDelay: delay,
		},
	},
	taskList: { noop: async () => {} },
});
for (;;) {
	const r = await client.query("SELECT NOT EXISTS (SELECT FROM graphile_worker._private_jobs) AS done");
	if (r.rows[0].done) break;
	if (process.hrtime.bigint() - t0 > 120_000_000_000n) {
		console.error("graphile-worker: jobs still left after 120 s");
		process.exit(1);
	}
	await new Promise((res) => setTimeout(res, 10));
}
const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
await runner.stop();
await client.end();
console.log(`jobs_s ${Math.round(jobs / seconds)}`);
