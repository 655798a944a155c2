-- 0030_analytics_metrics_inline: the dashboard's analytics totals without
-- the SQL-function executor (issue #14 §2: dashboard under wrk).
--
-- analytics_metrics (0015) was declared IMMUTABLE, but its body calls
-- jsonb_build_object, which is STABLE: PostgreSQL inlines a SQL function
-- only when its body is no more volatile than its declaration, so every
-- statement that called it (GET /api/campaigns/dashboard, the analytics
-- overview and reports) ran it through the SQL-function executor, which
-- parses and plans the body once per statement. STABLE is what it is; the
-- planner now inlines it into each caller's plan (EXPLAIN VERBOSE shows
-- jsonb_build_object where it showed analytics_metrics(...)).
--
-- pgbench -M prepared, 4 clients, best of three 3 s runs on the 2-CPU
-- machine: the dashboard's analytics part alone 15.2k -> 35.0k statements/s,
-- the whole dashboard statement 5.6k -> 9.2k/s (a user with 61 campaigns,
-- one content item and no analytics, as bench/api.sh's). No index or
-- generated column uses the function, so nothing is rebuilt.

ALTER FUNCTION analytics_metrics(numeric, numeric, numeric, numeric, numeric, numeric, numeric, numeric) STABLE;
