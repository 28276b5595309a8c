package dbtest

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// pgBin is where Debian's PostgreSQL 15 keeps initdb, pg_ctl and postgres.
const pgBin = "/usr/lib/postgresql/15/bin"

// Cluster is a private PostgreSQL server of a test's own, in a temporary directory on a free
// port: for tests that must stop, restart or starve the database, which they must never do
// to the shared one. It runs as postgres when the test runs as root (initdb and pg_ctl refuse
// root) and is stopped when the test ends.
type Cluster struct {
	t    testing.TB
	dir  string
	port int
	cred *syscall.Credential
}

// NewCluster initialises and starts a private cluster. It fails the test when PostgreSQL's
// server binaries are not installed.
func NewCluster(t testing.TB) *Cluster {
	t.Helper()
	if _, err := os.Stat(filepath.Join(pgBin, "initdb")); err != nil {
		t.Fatalf("dbtest: PostgreSQL 15's server binaries are not in %s: %v", pgBin, err)
	}
	dir, err := os.MkdirTemp("", "bisonsync-cluster-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	c := &Cluster{t: t, dir: dir, port: freePort(t), cred: postgresCredential(t)}
	if c.cred != nil {
		if err := os.Chown(dir, int(c.cred.Uid), int(c.cred.Gid)); err != nil {
			t.Fatal(err)
		}
	}
	c.run(filepath.Join(pgBin, "initdb"), "-D", c.data(), "-U", "postgres", "-A", "trust", "--no-sync", "-E", "UTF8")
	conf := fmt.Sprintf("port = %d\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '%s'\nfsync = off\nmax_connections = 100\n",
		c.port, c.dir)
	if err := os.WriteFile(filepath.Join(c.data(), "postgresql.auto.conf"), []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	if c.cred != nil {
		_ = os.Chown(filepath.Join(c.data(), "postgresql.auto.conf"), int(c.cred.Uid), int(c.cred.Gid))
	}
	c.Start()
	t.Cleanup(func() {
		cmd := c.command(filepath.Join(pgBin, "pg_ctl"), "-D", c.data(), "-m", "immediate", "-w", "stop")
		_ = cmd.Run()
	})
	return c
}

func (c *Cluster) data() string { return filepath.Join(c.dir, "data") }

// URL connects to the cluster's postgres database.
func (c *Cluster) URL() string {
	u := url.URL{Scheme: "postgres", User: url.User("postgres"), Host: net.JoinHostPort("127.0.0.1", strconv.Itoa(c.port)),
		Path: "/postgres", RawQuery: "sslmode=disable"}
	return u.String()
}

// Start starts the server and waits until it accepts connections.
func (c *Cluster) Start() {
	c.t.Helper()
	c.run(filepath.Join(pgBin, "pg_ctl"), "-D", c.data(), "-l", filepath.Join(c.dir, "server.log"), "-w", "-t", "60", "start")
	c.waitReady()
}

// Stop stops the server at once (as a crash would: every connection is cut).
func (c *Cluster) Stop() {
	c.t.Helper()
	c.run(filepath.Join(pgBin, "pg_ctl"), "-D", c.data(), "-m", "immediate", "-w", "stop")
}

// Restart stops the server, waits down for the given time, and starts it again.
func (c *Cluster) Restart(down time.Duration) {
	c.t.Helper()
	c.Stop()
	time.Sleep(down)
	c.Start()
}

func (c *Cluster) waitReady() {
	c.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		conn, err := pgx.Connect(ctx, c.URL())
		cancel()
		if err == nil {
			conn.Close(context.Background())
			return
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(filepath.Join(c.dir, "server.log"))
			c.t.Fatalf("dbtest: private cluster did not accept connections: %v\n%s", err, log)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (c *Cluster) command(name string, args ...string) *exec.Cmd {
	cmd := exec.Command(name, args...)
	cmd.Dir = c.dir
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: c.cred}
	return cmd
}

func (c *Cluster) run(name string, args ...string) {
	c.t.Helper()
	if out, err := c.command(name, args...).CombinedOutput(); err != nil {
		c.t.Fatalf("dbtest: %s %v: %v\n%s", filepath.Base(name), args, err, out)
	}
}
