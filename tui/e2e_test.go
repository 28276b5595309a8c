package tui

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/bisonsync/bisonsync/db/dbtest"
)

// TestEndToEndInTmux builds the real binary, runs `bisonsync --demo` in a tmux pane (a real
// pseudo-terminal), makes a full sync with the keyboard, quits, and checks from outside that
// the terminal was given back as it was: alternate screen left, cursor shown, line
// discipline restored (canonical mode and echo), and the shell's next line printed.
//
// It fails, never skips, when tmux is missing: CI installs it. --demo drops and recreates
// its schema (bisonsync_demo) on start, and other tests run the demo too (main's), in
// parallel with this package: so this test gives the demo a database of its own, created
// for it and dropped after.
func TestEndToEndInTmux(t *testing.T) {
	tmux, err := exec.LookPath("tmux")
	if err != nil {
		t.Fatalf("tmux is needed for the console's end-to-end test (apt-get install tmux): %v", err)
	}
	bin := filepath.Join(t.TempDir(), "bisonsync")
	build := exec.Command("go", "build", "-o", bin, "..")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}

	var random [4]byte
	_, _ = rand.Read(random[:])
	suffix := hex.EncodeToString(random[:])
	dbURL := demoDatabase(t, "bisonsync_e2e_"+suffix)
	socket := "bisonsync-e2e-" + suffix
	tm := func(args ...string) (string, error) {
		cmd := exec.Command(tmux, append([]string{"-L", socket, "-f", "/dev/null"}, args...)...)
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	t.Cleanup(func() { _, _ = tm("kill-server") })

	// After the console: its exit code, the tty's canonical mode and echo flags as stty
	// reports them ("-icanon" would mean raw mode was left on), and a marker.
	script := fmt.Sprintf(`%q --demo; echo "EXIT=$?"; echo "STTY: $(stty -a | tr ' ;' '\n\n' | grep -xE -- '-?(icanon|echo)' | tr '\n' ' ')"; echo E2E-DONE; sleep 300`, bin)
	args := []string{"new-session", "-d", "-s", "e2e", "-x", "120", "-y", "36"}
	args = append(args, "-e", "DATABASE_URL="+dbURL, "sh", "-c", script)
	if out, err := tm(args...); err != nil {
		t.Fatalf("tmux new-session: %v\n%s", err, out)
	}
	capture := func() string {
		out, err := tm("capture-pane", "-p", "-t", "e2e")
		if err != nil {
			t.Fatalf("tmux capture-pane: %v\n%s", err, out)
		}
		return out
	}
	waitFor := func(timeout time.Duration, subs ...string) string {
		t.Helper()
		deadline := time.Now().Add(timeout)
		for {
			screen := capture()
			ok := true
			for _, s := range subs {
				ok = ok && strings.Contains(screen, s)
			}
			if ok {
				return screen
			}
			if time.Now().After(deadline) {
				t.Fatalf("the pane did not show %q within %s:\n%s", subs, timeout, screen)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	send := func(keys ...string) {
		t.Helper()
		for _, k := range keys {
			if out, err := tm("send-keys", "-t", "e2e", k); err != nil {
				t.Fatalf("tmux send-keys %s: %v\n%s", k, err, out)
			}
			time.Sleep(150 * time.Millisecond)
		}
	}

	screen := waitFor(60*time.Second, "26 workspaces", "DEMO:", "Jason Binyon", "✗ failing", "18d")
	if alt, _ := tm("display-message", "-p", "-t", "e2e", "#{alternate_on}"); strings.TrimSpace(alt) != "1" {
		t.Errorf("the console should use the alternate screen (alternate_on=%q)", alt)
	}
	_ = screen
	send("S")
	waitFor(10*time.Second, "Full sync: sync all 26 active workspaces now?", "[y/n]")
	send("y")
	waitFor(10*time.Second, "» running")
	screen = waitFor(120*time.Second, "✓ succeeded", "workspaces 26/26 done: 26 ok")
	// Run #1 is the demo's seed (its starting point, written through the engine's commit
	// path); the operator's full sync is run #2.
	if !strings.Contains(screen, "run #2 finished") {
		t.Errorf("the status line should report the run:\n%s", screen)
	}
	// The first screen's banner does not contradict the rows once the sync fixed them.
	send("1")
	screen = waitFor(30*time.Second, "✓ all fresh", "DEMO:")
	if line := lineOf(screen, "› Jason Binyon") + lineOf(screen, "  Jason Binyon"); !strings.Contains(line, "✓ ok") {
		t.Errorf("Jason Binyon's row after the sync: %q", line)
	}
	if strings.Contains(screen, "is 18 days stale") {
		t.Errorf("the banner says Jason Binyon is stale after the sync fixed it:\n%s", screen)
	}
	send("q")
	screen = waitFor(30*time.Second, "E2E-DONE")

	if !strings.Contains(screen, "EXIT=0") {
		t.Errorf("bisonsync did not exit 0:\n%s", screen)
	}
	if strings.Contains(screen, "[1 Workspaces]") || strings.Contains(screen, "[2 Run]") {
		t.Errorf("the console is still on screen after quitting:\n%s", screen)
	}
	stty := lineOf(screen, "STTY:")
	if !strings.Contains(stty, " icanon") || !strings.Contains(stty, " echo") || strings.Contains(stty, "-icanon") || strings.Contains(stty, "-echo ") {
		t.Errorf("the terminal was left in raw mode: %q", stty)
	}
	state, err := tm("display-message", "-p", "-t", "e2e", "#{alternate_on} #{cursor_flag}")
	if err != nil || strings.TrimSpace(state) != "0 1" {
		t.Errorf("alternate screen and cursor after exit: %q (want \"0 1\": main screen, cursor shown) %v", state, err)
	}
	if os.Getenv("BISONSYNC_E2E_SHOW") != "" {
		t.Logf("final pane:\n%s", screen)
	}
}

// demoDatabase creates a database of its own for a --demo run, dropped when the test ends,
// and returns a connection string to it (the tests' DATABASE_URL, or the libpq defaults,
// with the database replaced).
func demoDatabase(t *testing.T, name string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	admin, err := pgx.Connect(ctx, dbtest.URL())
	if err != nil {
		t.Fatalf("connect to PostgreSQL (DATABASE_URL=%q): %v", dbtest.URL(), err)
	}
	defer admin.Close(context.Background())
	ident := pgx.Identifier{name}.Sanitize()
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+ident); err != nil {
		t.Fatalf("create a database for the demo (the test's role needs CREATEDB): %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, dbtest.URL())
		if err != nil {
			t.Errorf("drop database %s: %v", name, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+ident+" WITH (FORCE)"); err != nil {
			t.Errorf("drop database %s: %v", name, err)
		}
	})
	cc := admin.Config()
	u := url.URL{Scheme: "postgres", Host: net.JoinHostPort(cc.Host, strconv.Itoa(int(cc.Port))), Path: "/" + name}
	if strings.HasPrefix(cc.Host, "/") { // a Unix socket directory
		u.Host = ""
		u.RawQuery = url.Values{"host": {cc.Host}, "port": {strconv.Itoa(int(cc.Port))}}.Encode()
	}
	if cc.Password != "" {
		u.User = url.UserPassword(cc.User, cc.Password)
	} else {
		u.User = url.User(cc.User)
	}
	q := u.Query()
	if cc.TLSConfig == nil {
		q.Set("sslmode", "disable")
	}
	u.RawQuery = q.Encode()
	return u.String()
}
