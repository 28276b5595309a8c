package db

import (
	"cmp"
	"context"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// DefaultSchema is the schema used when Config.Schema is empty.
const DefaultSchema = "public"

// Config says where the database is and which schema holds bisonsync's tables.
type Config struct {
	// URL is a PostgreSQL connection string (URL or key=value). Empty means the standard
	// libpq variables (PGHOST, PGPORT, PGUSER, PGDATABASE, PGPASSWORD, PGSSLMODE) and their
	// defaults.
	URL string
	// Schema holds every table. Default "public". See ValidSchemaName for what is accepted.
	Schema string
	// MaxConns caps the pool. Zero keeps pgxpool's default (the larger of 4 and the number
	// of CPUs). Values below 2 are raised to 2: Migrate holds one connection for goose while
	// goose's table locker needs another.
	MaxConns int32
}

// Store is bisonsync's handle on its database: a pgx pool plus the queries, qualified with
// the configured schema. It is safe for concurrent use.
type Store struct {
	pool   *pgxpool.Pool
	ctl    *pgxpool.Pool // heartbeats and lock watches: never queued behind blocked commits
	schema string
	host   string
	q      queries
}

// ConnectError reports that the database could not be reached or the connection settings
// could not be used. Its message names where it tried to connect, never the password.
type ConnectError struct {
	Host     string
	Port     uint16
	Database string
	User     string
	// Op is what failed: "parse connection settings", "create pool" or "ping".
	Op  string
	Err error
}

// Error describes the failure in a sentence fit for a log or the run history.
func (e *ConnectError) Error() string {
	where := "PostgreSQL"
	if e.Host != "" {
		where = "PostgreSQL at " + net.JoinHostPort(e.Host, strconv.Itoa(int(e.Port)))
	}
	var who []string
	if e.Database != "" {
		who = append(who, fmt.Sprintf("database %q", e.Database))
	}
	if e.User != "" {
		who = append(who, fmt.Sprintf("user %q", e.User))
	}
	if len(who) > 0 {
		where += " (" + strings.Join(who, ", ") + ")"
	}
	return fmt.Sprintf("connect to %s: %s: %v", where, e.Op, e.Err)
}

// Unwrap returns the underlying error, for errors.Is and errors.As.
func (e *ConnectError) Unwrap() error { return e.Err }

// Open parses cfg, creates the pool and pings the database. It does not create or upgrade
// the schema: call Migrate for that. Errors reaching the database are *ConnectError.
func Open(ctx context.Context, cfg Config) (*Store, error) {
	schema := cmp.Or(cfg.Schema, DefaultSchema)
	if err := ValidSchemaName(schema); err != nil {
		return nil, err
	}

	poolCfg, err := pgxpool.ParseConfig(cfg.URL)
	if err != nil {
		return nil, &ConnectError{Op: "parse connection settings", Err: redactedError{err, urlPassword(cfg.URL)}}
	}
	cc := poolCfg.ConnConfig
	connErr := func(op string, err error) error {
		return &ConnectError{Host: cc.Host, Port: cc.Port, Database: cc.Database, User: cc.User, Op: op,
			Err: redactedError{err, cc.Password}}
	}

	poolerSafe(poolCfg)
	if cfg.MaxConns > 0 {
		poolCfg.MaxConns = max(cfg.MaxConns, 2)
	}

	pool, err := pgxpool.NewWithConfig(ctx, poolCfg)
	if err != nil {
		return nil, connErr("create pool", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, connErr("ping", err)
	}
	// The control pool serves the run's heartbeat and the watch on commits waiting for a
	// lock: when commits block on a lock they hold the main pool's connections, and a
	// heartbeat queued behind them would let another process think the run dead.
	ctlCfg := poolCfg.Copy()
	ctlCfg.MaxConns, ctlCfg.MinConns = 2, 0
	ctl, err := pgxpool.NewWithConfig(ctx, ctlCfg)
	if err != nil {
		pool.Close()
		return nil, connErr("create pool", err)
	}

	return &Store{
		pool:   pool,
		ctl:    ctl,
		schema: schema,
		host:   displayHost(cc.Host, cc.Port, cmp.Or(cc.Database, cc.User)),
		q:      buildQueries(schema),
	}, nil
}

// poolerSafe sets what production's transaction-mode pooler needs of every connection.
func poolerSafe(poolCfg *pgxpool.Config) {
	// Production sits behind a transaction-mode pooler (PgBouncer, Supabase), where each
	// transaction may run on a different server connection. pgx's default mode prepares named
	// statements on the connection and caches them, which breaks there (the statement exists on
	// another server connection, or a stranger's statement has the same name). Exec mode sends
	// every query as the unnamed statement with its parameters in one round trip, so nothing
	// outlives the statement; the price is that parameter types are inferred by the server,
	// hence the explicit casts in the queries.
	poolCfg.ConnConfig.DefaultQueryExecMode = pgx.QueryExecModeExec
	poolCfg.ConnConfig.StatementCacheCapacity = 0
	poolCfg.ConnConfig.DescriptionCacheCapacity = 0
	// application_name is one of the few startup parameters poolers pass through; it makes
	// bisonsync's sessions recognisable in pg_stat_activity.
	if _, ok := poolCfg.ConnConfig.RuntimeParams["application_name"]; !ok {
		poolCfg.ConnConfig.RuntimeParams["application_name"] = "bisonsync"
	}
}

// Close closes the pools, waiting for acquired connections to be released.
func (s *Store) Close() {
	s.pool.Close()
	s.ctl.Close()
}

// Pool returns the underlying pool, for callers that need a query the Store does not offer.
// Remember to qualify table names with Schema: search_path is not set.
func (s *Store) Pool() *pgxpool.Pool { return s.pool }

// Schema returns the schema that holds the tables.
func (s *Store) Schema() string { return s.schema }

// displayHost names where the database is, for people: host:port/dbname, or the socket
// directory for a Unix socket. An empty database name means the user's (libpq's default).
func displayHost(host string, port uint16, database string) string {
	if strings.HasPrefix(host, "/") {
		return fmt.Sprintf("%s:%d/%s (Unix socket)", host, port, database)
	}
	return net.JoinHostPort(host, strconv.Itoa(int(port))) + "/" + database
}

// Host returns host:port/dbname, for display. It never includes credentials.
func (s *Store) Host() string { return s.host }

// redactedError hides a password that a driver error might echo back (pgx already redacts
// the ones it recognises; this is the second belt).
type redactedError struct {
	err      error
	password string
}

// Error is the wrapped error's message with the password masked.
func (e redactedError) Error() string {
	msg := e.err.Error()
	if e.password != "" {
		msg = strings.ReplaceAll(msg, e.password, "xxxxx")
	}
	return msg
}

// Unwrap returns the underlying error, for errors.Is and errors.As.
func (e redactedError) Unwrap() error { return e.err }

// urlPassword returns the password in a URL-style connection string, if it has one.
func urlPassword(connString string) string {
	u, err := url.Parse(connString)
	if err != nil || u.User == nil {
		return ""
	}
	p, _ := u.User.Password()
	return p
}
