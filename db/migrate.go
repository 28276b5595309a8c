package db

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"hash/fnv"
	"io/fs"
	"log/slog"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/database"
	"github.com/pressly/goose/v3/lock"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// Timings of goose's table lock. A migrator that dies holding the lock blocks the others for
// at most one lease; a live one renews it every heartbeat. Waiters poll often so that several
// processes starting together finish quickly, and give up after about a minute, which is
// several leases: long enough to outlive a dead holder, short enough to report a wedged
// database instead of hanging a cron job.
const (
	migrateLockLease     = 15 * time.Second
	migrateLockHeartbeat = 3 * time.Second
	migrateLockPoll      = 200 * time.Millisecond
	migrateLockPolls     = 300 // × migrateLockPoll ≈ 1 minute
	migrateUnlockPolls   = 25  // × migrateLockPoll = 5 seconds
)

// Migrate creates the schema when it is missing and applies the pending migrations. It is
// idempotent and safe when several processes (on several hosts, through a transaction-mode
// pooler) run it at once: they serialise on a lock row in the schema and all succeed.
func (s *Store) Migrate(ctx context.Context) error {
	if err := s.ensureSchema(ctx); err != nil {
		return fmt.Errorf("migrate schema %s: %w", s.schema, err)
	}
	migrations, err := s.goMigrations()
	if err != nil {
		return fmt.Errorf("migrate schema %s: %w", s.schema, err)
	}

	// goose's session locker takes pg_advisory_lock on one connection and releases it on the
	// same one later; behind a transaction-mode pooler the lock would belong to whichever client
	// used that server connection, and the unlock might run elsewhere. The table locker keeps
	// the lock in a row with an expiry instead, which works through any pooler.
	// The names are passed unquoted because goose interpolates them as they are; ValidSchemaName
	// guarantees that is the same as quoting.
	locker, err := lock.NewPostgresTableLocker(
		lock.WithTableName(s.schema+"."+tableGooseLock),
		lock.WithTableLeaseDuration(migrateLockLease),
		lock.WithTableHeartbeatInterval(migrateLockHeartbeat),
		lock.WithTableLockTimeout(migrateLockPoll, migrateLockPolls),
		lock.WithTableUnlockTimeout(migrateLockPoll, migrateUnlockPolls),
		// Failures are returned to us; goose's own stderr logging would only duplicate them.
		lock.WithTableLogger(slog.New(slog.DiscardHandler)),
	)
	if err != nil {
		return fmt.Errorf("migrate schema %s: create lock: %w", s.schema, err)
	}

	sqlDB := stdlib.OpenDBFromPool(s.pool) // closing it leaves the pool open
	defer sqlDB.Close()

	provider, err := goose.NewProvider(database.DialectPostgres, sqlDB, nil,
		goose.WithTableName(s.schema+"."+tableGooseVersion),
		goose.WithLocker(locker),
		goose.WithGoMigrations(migrations...),
		goose.WithDisableGlobalRegistry(true),
	)
	if err != nil {
		return fmt.Errorf("migrate schema %s: %w", s.schema, err)
	}
	// The dashboard's views pin the columns they read: out of the way while migrations run,
	// back (current) afterwards, even after a failed upgrade (dashboard_upgrade.go).
	if err := s.dashboardsBeforeMigrations(ctx, migrations[len(migrations)-1].Version); err != nil {
		return fmt.Errorf("migrate schema %s: %w", s.schema, err)
	}
	_, upErr := provider.Up(ctx)
	dashErr := s.dashboardsAfterUpgrade(ctx)
	if upErr != nil {
		return fmt.Errorf("migrate schema %s: %w", s.schema, upErr)
	}
	if dashErr != nil {
		return fmt.Errorf("migrate schema %s: %w", s.schema, dashErr)
	}
	return nil
}

// ensureSchema creates the schema if it does not exist. goose cannot do it: its lock and
// version tables live in the schema. Concurrent starters serialise on a transaction-level
// advisory lock (released at commit, so it is safe behind a transaction-mode pooler).
func (s *Store) ensureSchema(ctx context.Context) error {
	const existsSQL = `SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_namespace WHERE nspname = $1::text)`
	// Checking first spares the CREATE, which needs the CREATE privilege on the database even
	// when the schema exists (a managed database may grant use of a schema but not that).
	var exists bool
	if err := s.pool.QueryRow(ctx, existsSQL, s.schema).Scan(&exists); err != nil {
		return fmt.Errorf("check schema exists: %w", err)
	}
	if exists {
		return nil
	}

	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1::bigint)`, schemaLockKey(s.schema)); err != nil {
			return fmt.Errorf("lock: %w", err)
		}
		if _, err := tx.Exec(ctx, `CREATE SCHEMA IF NOT EXISTS `+pgx.Identifier{s.schema}.Sanitize()); err != nil {
			return err
		}
		return nil
	})
	// Another tool creating the same schema without our lock can still win the race between
	// IF NOT EXISTS and the catalog insert; the schema then exists, which is all we wanted.
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && (pgErr.Code == "42P06" || pgErr.Code == "23505") {
		return nil
	}
	if err != nil {
		return fmt.Errorf("create schema: %w", err)
	}
	return nil
}

// schemaLockKey is the advisory lock key for creating schema: stable across processes and
// distinct per schema, so unrelated setups in one database do not wait for each other.
func schemaLockKey(schema string) int64 {
	h := fnv.New64a()
	h.Write([]byte("bisonsync create schema " + schema))
	return int64(h.Sum64())
}

// goMigrations turns the embedded SQL files into goose Go migrations. goose's own SQL
// migrations cannot know the schema, which is chosen at run time; a Go migration runs in a
// transaction that first sets search_path for that transaction only (SET LOCAL, so nothing
// leaks to the next user of a pooled connection) and then executes the file. goose records
// the version in the same transaction, so a migration is applied entirely or not at all.
func (s *Store) goMigrations() ([]*goose.Migration, error) {
	names, err := fs.Glob(migrationFiles, "migrations/*.sql")
	if err != nil {
		return nil, err
	}
	sort.Strings(names)
	setPath := "SET LOCAL search_path TO " + pgx.Identifier{s.schema}.Sanitize()

	var out []*goose.Migration
	for _, name := range names {
		version, err := migrationVersion(name)
		if err != nil {
			return nil, err
		}
		body, err := migrationFiles.ReadFile(name)
		if err != nil {
			return nil, fmt.Errorf("read migration %s: %w", name, err)
		}
		text := string(body)
		// The files are plain forward-only SQL run as a whole; a goose Down section or
		// no-transaction annotation would be silently misread, so refuse them.
		if strings.Contains(text, "+goose Down") || strings.Contains(text, "+goose NO TRANSACTION") {
			return nil, fmt.Errorf("migration %s: Down sections and NO TRANSACTION are not supported; migrations are forward-only and transactional", name)
		}
		base := path.Base(name)
		up := func(ctx context.Context, tx *sql.Tx) error {
			if _, err := tx.ExecContext(ctx, setPath); err != nil {
				return fmt.Errorf("migration %s: set search_path: %w", base, err)
			}
			// No arguments: pgx sends it with the simple protocol, which runs every statement
			// in the file.
			if _, err := tx.ExecContext(ctx, text); err != nil {
				return fmt.Errorf("migration %s: %w", base, err)
			}
			return nil
		}
		// No Source: goose insists a Go migration's source ends in .go.
		out = append(out, goose.NewGoMigration(version, &goose.GoFunc{RunTx: up}, nil))
	}
	if len(out) == 0 {
		return nil, errors.New("no embedded migrations")
	}
	return out, nil
}

// migrationVersion reads the version from a file name such as migrations/00001_init.sql.
func migrationVersion(name string) (int64, error) {
	base := path.Base(name)
	digits, _, ok := strings.Cut(base, "_")
	v, err := strconv.ParseInt(digits, 10, 64)
	if !ok || err != nil || v < 1 {
		return 0, fmt.Errorf("migration %s: name must start with a positive version number and an underscore", name)
	}
	return v, nil
}
