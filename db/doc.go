// Package db holds the PostgreSQL side of bisonsync: the pgx pool, embedded migrations and
// the queries (registry, leases, runs, the one-transaction workspace commit, stale
// check). It knows nothing of HTTP.
//
// # Poolers
//
// Everything works through a transaction-mode pooler (PgBouncer, Supabase): queries use pgx's
// exec mode (no named prepared statements), every table is qualified with the schema instead
// of relying on search_path, session settings are only ever SET LOCAL, and coordination uses
// rows (leases, goose's lock table) or transaction-level advisory locks, never session locks.
//
// # Clocks
//
// Every timestamp that decides something (lease expiry, heartbeats, staleness, ages) is the
// database's now(), so hosts with skewed clocks agree. Durations measured by one process
// (a workspace's sync) use Go's monotonic clock.
//
// # Lock order
//
// Writers take row locks in one order: the client_registry row, then the workspace_leases
// row, then sync_run_workspaces rows; or the sync_runs row, then its leases, then its
// workspace rows. Following it is what keeps commits, claims, heartbeats, the abandoned-run
// sweep and CloseRun from deadlocking with one another.
package db
