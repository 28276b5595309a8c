// Package dbtest gives tests a real PostgreSQL schema of their own: fresh, migrated, and
// dropped when the test ends, so tests can run in parallel against one database.
//
// The database is DATABASE_URL, or the libpq variables (PGHOST, PGPORT, …) and their
// defaults when it is unset. An unreachable database fails the test (it does not skip it):
// a test suite that silently skips its database tests proves nothing.
package dbtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/jackc/pgx/v5"

	"github.com/bisonsync/bisonsync/db"
)

// howToStart is appended to connection failures.
const howToStart = `PostgreSQL is needed for these tests. Start it, for example:
    pg_ctlcluster 15 main start        (Debian/Ubuntu package)
    docker run -d -p 5432:5432 -e POSTGRES_HOST_AUTH_METHOD=trust postgres:15
then point the tests at it:
    export DATABASE_URL='postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable'`

// URL is the connection string the tests use: DATABASE_URL, or "" for the libpq defaults.
func URL() string { return os.Getenv("DATABASE_URL") }

// NewStore returns a Store on a fresh, migrated schema of its own, closed and dropped when
// the test ends.
func NewStore(t testing.TB) *db.Store {
	t.Helper()
	schema := NewSchema(t)
	s := OpenStore(t, schema)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := s.Migrate(ctx); err != nil {
		t.Fatalf("dbtest: migrate schema %s: %v", schema, err)
	}
	return s
}

// NewSchema returns a unique schema name, not yet created, and drops the schema (if anything
// created it) when the test ends, after every store opened later in the test is closed.
func NewSchema(t testing.TB) string {
	t.Helper()
	schema := schemaName(t.Name())
	t.Cleanup(func() { dropSchema(t, schema) })
	return schema
}

// OpenStore opens a Store on schema without migrating it, closed when the test ends. Tests
// that need several pools on one schema (concurrent migrators, lease contention) use it.
func OpenStore(t testing.TB, schema string) *db.Store {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := db.Open(ctx, db.Config{URL: URL(), Schema: schema, MaxConns: 8})
	if err != nil {
		t.Fatalf("dbtest: %v\n%s", err, howToStart)
	}
	t.Cleanup(s.Close)
	return s
}

func dropSchema(t testing.TB, schema string) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, URL())
	if err != nil {
		if !t.Failed() { // an unreachable database has already been reported
			t.Errorf("dbtest: drop schema %s: %v", schema, err)
		}
		return
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "DROP SCHEMA IF EXISTS "+pgx.Identifier{schema}.Sanitize()+" CASCADE"); err != nil {
		t.Errorf("dbtest: drop schema %s: %v", schema, err)
	}
}

// schemaName builds a valid, unique schema name that still says which test made it (handy
// when one is left behind by a killed test run).
func schemaName(testName string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(testName) {
		switch {
		case r < unicode.MaxASCII && (unicode.IsLetter(r) || unicode.IsDigit(r)):
			b.WriteRune(r)
		case b.Len() > 0 && !strings.HasSuffix(b.String(), "_"):
			b.WriteByte('_')
		}
		if b.Len() >= 40 {
			break
		}
	}
	var random [6]byte
	_, _ = rand.Read(random[:])
	return "t_" + strings.TrimSuffix(b.String(), "_") + "_" + hex.EncodeToString(random[:])
}

// NewDatabase creates an empty database of its own on the test server and returns its
// connection URL; it is dropped (with any session still on it) when the test ends. For tests
// that must see a whole database, such as what lands in its public schema.
func NewDatabase(t testing.TB) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	admin, err := pgx.Connect(ctx, URL())
	if err != nil {
		t.Fatalf("dbtest: %v\n%s", err, howToStart)
	}
	defer admin.Close(ctx)
	name := schemaName(t.Name())
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		t.Fatalf("dbtest: create database %s: %v", name, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, URL())
		if err != nil {
			t.Errorf("dbtest: drop database %s: %v", name, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)"); err != nil {
			t.Errorf("dbtest: drop database %s: %v", name, err)
		}
	})
	cfg, err := pgx.ParseConfig(URL())
	if err != nil {
		t.Fatalf("dbtest: parse DATABASE_URL: %v", err)
	}
	u := url.URL{Scheme: "postgres", User: url.User(cfg.User), Host: net.JoinHostPort(cfg.Host, strconv.Itoa(int(cfg.Port))),
		Path: "/" + name, RawQuery: "sslmode=disable"}
	if filepath.IsAbs(cfg.Host) {
		u.Host = ""
		u.RawQuery += "&host=" + url.QueryEscape(cfg.Host) + "&port=" + strconv.Itoa(int(cfg.Port))
	}
	if cfg.Password != "" {
		u.User = url.UserPassword(cfg.User, cfg.Password)
	}
	return u.String()
}
