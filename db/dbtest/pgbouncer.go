package dbtest

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// PgBouncer starts a private PgBouncer in transaction mode in front of the test database,
// as production's pooler (Supabase's) runs, and returns a connection URL through it. Its
// pool is small so that consecutive statements of one client really land on different
// server connections. It is stopped when the test ends.
//
// It fails the test when pgbouncer is not installed: the pooler is part of what bisonsync
// promises to work through (apt-get install pgbouncer; .ci/run does).
func PgBouncer(t testing.TB) string {
	t.Helper()
	bin := pgbouncerBinary(t)
	target, err := pgx.ParseConfig(URL())
	if err != nil {
		t.Fatalf("dbtest: parse DATABASE_URL: %v", err)
	}
	port := freePort(t)
	dir := pgbouncerConfig(t, target, port)
	cmd := exec.Command(bin, filepath.Join(dir, "pgbouncer.ini"))
	// Its own process group, so that cleanup reaches it and nothing it starts; run directly
	// as postgres when we are root (not through runuser, whose death leaves PgBouncer behind).
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Credential: postgresCredential(t)}
	logFile, err := os.Create(filepath.Join(dir, "pgbouncer.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		t.Fatalf("dbtest: start pgbouncer: %v", err)
	}
	t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		_ = cmd.Wait()
		logFile.Close()
	})

	u := url.URL{Scheme: "postgres", User: url.User(target.User), Host: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)),
		Path: "/" + target.Database, RawQuery: "sslmode=disable"}
	deadline := time.Now().Add(10 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		conn, err := pgx.Connect(ctx, u.String())
		cancel()
		if err == nil {
			conn.Close(context.Background())
			return u.String()
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(filepath.Join(dir, "pgbouncer.log"))
			t.Fatalf("dbtest: pgbouncer did not accept connections: %v\n%s", err, log)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// pgbouncerBinary finds PgBouncer, or fails the test: the pooler is part of what bisonsync
// promises to work through (apt-get install pgbouncer; .ci/run does).
func pgbouncerBinary(t testing.TB) string {
	t.Helper()
	if bin, err := exec.LookPath("pgbouncer"); err == nil {
		return bin
	}
	for _, p := range []string{"/usr/sbin/pgbouncer", "/usr/bin/pgbouncer"} {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	t.Fatal("dbtest: pgbouncer is not installed; the transaction-pooler tests need it: apt-get install pgbouncer")
	return ""
}

// pgbouncerConfig writes PgBouncer's configuration, transaction mode in front of target on
// port, into a temporary directory removed with the test, and returns the directory.
func pgbouncerConfig(t testing.TB, target *pgx.ConnConfig, port int) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "bisonsync-pgbouncer-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	// PgBouncer refuses to run as root; it runs as postgres then, which must read the config.
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	host := target.Host
	if host == "" || filepath.IsAbs(host) {
		host = "127.0.0.1"
	}
	ini := fmt.Sprintf(`[databases]
* = host=%s port=%d

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = %d
unix_socket_dir =
auth_type = trust
auth_file = %s
pool_mode = transaction
default_pool_size = 4
max_client_conn = 200
ignore_startup_parameters = extra_float_digits,search_path
server_reset_query =
`, host, target.Port, port, filepath.Join(dir, "users.txt"))
	userLine := fmt.Sprintf("%q \"\"\n", target.User)
	for name, body := range map[string]string{"pgbouncer.ini": ini, "users.txt": userLine} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// postgresCredential is the postgres user's, when this process runs as root (PgBouncer, like
// initdb and pg_ctl, refuses root); nil otherwise.
func postgresCredential(t testing.TB) *syscall.Credential {
	t.Helper()
	if os.Geteuid() != 0 {
		return nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		t.Fatalf("dbtest: running as root, and there is no postgres user to run PgBouncer as: %v", err)
	}
	uid, _ := strconv.ParseUint(u.Uid, 10, 32)
	gid, _ := strconv.ParseUint(u.Gid, 10, 32)
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
}

func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}
