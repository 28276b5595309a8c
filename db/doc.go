// Package db holds the PostgreSQL side of bisonsync: the pgx pool, embedded migrations and
// the queries (registry, leases, runs, the one-transaction workspace commit, view refresh,
// stale check). It knows nothing of HTTP.
package db
