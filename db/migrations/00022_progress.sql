-- Live progress (issue 13): a run's workspace rows are now rewritten about once a second
-- while they are under way (pages and accounts so far), and its run row too. Free space on
-- each page lets those updates be HOT (none of the columns is indexed): no index entry per
-- update, and the page prunes the dead versions itself, so a run of 2,000 workspaces does
-- not bloat the tables its own progress writes and the dashboard read.
ALTER TABLE sync_run_workspaces SET (fillfactor = 70);
ALTER TABLE sync_runs SET (fillfactor = 70);
